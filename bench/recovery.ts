/**
 * Recovery after a crash: a worker process holds K running jobs and is SIGKILLed; a second worker
 * process is already up and idle. The figure is the time from the kill until the second worker
 * has started all K jobs again. repid ends a dead worker's leases with its heartbeat; BullMQ
 * waits for its lock (lockDuration, 30 s by default) and the next stalled-jobs check.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Queue as BullQueue } from "bullmq";
import { Redis } from "ioredis";
import { Connection, Job, Queue, enqueueMany, silentLogger } from "repid";
import { RedisMessageBroker } from "repid/redis";

const K = 10;
const child = new URL("./recovery-child.ts", import.meta.url).pathname;

interface Proc {
  readonly process: ChildProcess;
  /** Resolves when the child printed `line`. */
  until(predicate: (lines: string[]) => boolean): Promise<void>;
}

function start(system: string, url: string, queue: string): Proc {
  const p = spawn(process.execPath, ["--import", "tsx", child, system, url, queue, String(K)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buffer = "";
  p.stdout!.on("data", (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  return {
    process: p,
    until: async (predicate) => {
      while (!predicate(lines)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

const starts = (lines: string[]): number => lines.filter((l) => l.startsWith("start ")).length;

/** Milliseconds from the SIGKILL until all K jobs run again on the other worker. */
export async function recoveryMs(
  system: "repid" | "bullmq",
  url: string,
  queue: string,
): Promise<number> {
  let cleanup: () => Promise<void>;
  const a = start(system, url, queue);
  await a.until((l) => l.includes("ready"));
  if (system === "repid") {
    const connection = new Connection(new RedisMessageBroker(url, { prefix: "repid-bench" }), {
      logger: silentLogger,
    });
    const q = new Queue(queue, { connection });
    await q.declare();
    await enqueueMany(
      Array.from({ length: K }, () => new Job("hold", { queue: q, connection })),
      {
        connection,
      },
    );
    cleanup = async () => {
      await q.delete();
      await connection.disconnect();
    };
  } else {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const q = new BullQueue(queue, { connection, prefix: "bull-bench" });
    await q.addBulk(Array.from({ length: K }, () => ({ name: "hold", data: {} })));
    cleanup = async () => {
      await q.obliterate({ force: true });
      await q.close();
      connection.disconnect();
    };
  }
  const b = start(system, url, queue);
  try {
    await Promise.all([a.until((l) => starts(l) === K), b.until((l) => l.includes("ready"))]);
    const killedAt = performance.now();
    a.process.kill("SIGKILL");
    await b.until((l) => starts(l) === K);
    return performance.now() - killedAt;
  } finally {
    a.process.kill("SIGKILL");
    b.process.kill("SIGKILL");
    await cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  for (const system of ["repid", "bullmq"] as const) {
    const ms = await recoveryMs(system, url, `bench-recovery-${process.pid}-${system}`);
    process.stdout.write(
      `${system}: all ${K} jobs of a SIGKILLed worker running again after ${Math.round(ms)} ms\n`,
    );
  }
}

/**
 * Faults: refused connections and an ACL user without channel permissions. Connect failures must
 * carry Redis's own error (WRONGPASS, NOAUTH, ECONNREFUSED) as a typed BrokerError, a process
 * that failed to connect must exit on its own after disconnecting, and a user that may not
 * PUBLISH must still get every job run once with its result stored and awaited.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisBrokerError } from "../../src/brokers/redis/redis-errors.js";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { Connection } from "../../src/connection/connection.js";
import { BrokerError } from "../../src/core/errors.js";
import { Job } from "../../src/producer/job.js";
import { Worker } from "../../src/worker/worker.js";
import { freePort, recordingLogger, startRedis, type ThrowawayRedis } from "./redis-server.js";
import { newPrefix } from "./harness.js";

const root = new URL("../..", import.meta.url).pathname;
let redis: ThrowawayRedis;

beforeAll(async () => {
  redis = await startRedis(["--requirepass", "s3cret"]);
  const admin = redis.admin("s3cret");
  // Redis 7's default for new users: no channel permissions (resetchannels).
  await admin.acl("SETUSER", "nochan", "on", ">pw", "~*", "+@all", "resetchannels");
});
afterAll(async () => {
  await redis.stop();
});

const at = (auth: string): string => `redis://${auth}127.0.0.1:${redis.port}`;

async function connectError(url: string): Promise<unknown> {
  const broker = new RedisMessageBroker(url, { prefix: newPrefix(), connectTimeoutMs: 10_000 });
  try {
    await broker.connect();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await broker.disconnect();
  }
}

it(
  "surfaces WRONGPASS, NOAUTH and ECONNREFUSED as typed BrokerErrors",
  { timeout: 60_000 },
  async () => {
    const wrong = await connectError(at(":wrong@"));
    const none = await connectError(at(""));
    const closed = await connectError(`redis://127.0.0.1:${await freePort()}`);
    console.log("fault auth:", {
      wrongPassword: (wrong as Error).message,
      noPassword: (none as Error).message,
      closedPort: (closed as Error).message,
    });
    for (const [error, code] of [
      [wrong, "WRONGPASS"],
      [none, "NOAUTH"],
      [closed, "ECONNREFUSED"],
    ] as const) {
      expect(error).toBeInstanceOf(BrokerError);
      expect(error).toBeInstanceOf(RedisBrokerError);
      expect((error as RedisBrokerError).code).toBe("BROKER");
      expect((error as RedisBrokerError).redisCode).toBe(code);
      expect((error as Error).message).toContain(code);
    }
  },
);

it(
  "a process whose connect failed exits on its own after disconnect",
  { timeout: 60_000 },
  async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", `${root}test/faults/fixtures/redis-connect-fail.ts`, at(":wrong@")],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(-1);
      }, 30_000);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    console.log("fault auth exit:", { exitCode: code, reported: out.trim() });
    expect(code).toBe(0);
    expect(JSON.parse(out.trim())).toMatchObject({ code: "BROKER", redisCode: "WRONGPASS" });
  },
);

it(
  "an ACL user without channel permissions: results stored and awaited, jobs run once",
  { timeout: 120_000 },
  async () => {
    const prefix = newPrefix();
    const url = at("nochan:pw@");
    const workerLog = recordingLogger();
    const producerLog = recordingLogger();
    const producer = new Connection(new RedisMessageBroker(url, { prefix, logger: producerLog }));
    const runs = new Map<number, number>();
    const worker = new Worker({
      connection: new Connection(new RedisMessageBroker(url, { prefix, logger: workerLog })),
      handleSignals: [],
      concurrency: 10,
      logger: workerLog,
    });
    worker.actor(async function square(n: number) {
      runs.set(n, (runs.get(n) ?? 0) + 1);
      return n * n;
    });
    await producer.connect();
    await producer.broker.declareQueue("default");
    const running = worker.run();
    const n = 24;
    const handles = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        new Job<number, number>("square", {
          args: i,
          storeResult: "1h",
          connection: producer,
        }).enqueue(),
      ),
    );
    const results = await Promise.all(handles.map((h) => h.result({ timeout: "60s" })));
    worker.stop();
    await running;
    const counts = await producer.broker.counts("default");
    await producer.disconnect();
    const duplicates = [...runs.values()].filter((c) => c > 1).length;
    const said = (lines: string[]): number => lines.filter((l) => /PUBLISH/.test(l)).length;
    console.log("fault acl:", {
      jobs: n,
      runs: [...runs.values()].reduce((a, b) => a + b, 0),
      duplicates,
      results: results.length,
      workerWarnings: said(workerLog.lines),
    });
    expect(results).toEqual(Array.from({ length: n }, (_, i) => i * i));
    expect(duplicates).toBe(0);
    expect(runs.size).toBe(n);
    expect(counts).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    // Said once at connect on each side, not once per job.
    expect(said(workerLog.lines)).toBe(1);
    expect(said(producerLog.lines)).toBe(1);
  },
);

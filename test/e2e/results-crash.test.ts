import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { Connection, Job, Queue } from "../../src/index.js";
import { RedisMessageBroker } from "../../src/redis.js";
import {
  adminClient,
  deletePrefix,
  describeRedis,
  REDIS_URL,
  uniquePrefix,
} from "../brokers/redis-env.js";

const root = new URL("../..", import.meta.url).pathname;
const children: ChildProcess[] = [];

function startWorker(
  prefix: string,
  mode: "hang" | "finish",
): { child: ChildProcess; started: Promise<void>; out: () => string } {
  // node itself (with tsx's loader), not the tsx wrapper: SIGKILL must hit the worker process.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", `${root}test/fixtures/redis-result-worker.ts`, REDIS_URL, prefix, mode],
    {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: "--conditions=repid-source" },
    },
  );
  children.push(child);
  let out = "";
  const started = new Promise<void>((resolve) =>
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("started")) resolve();
    }),
  );
  return { child, started, out: () => out };
}

afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

describeRedis("results survive a crashed worker", () => {
  it("a job whose worker is SIGKILLed mid-run is redelivered, and its result is stored and awaited", async () => {
    const prefix = uniquePrefix();
    const connection = new Connection(new RedisMessageBroker(REDIS_URL, { prefix }));
    try {
      await new Queue("default", { connection }).declare();
      const handle = await new Job<number, number>("square", {
        args: 7,
        connection,
        storeResult: true,
      }).enqueue();
      const waiting = handle.result({ timeout: "30s" });

      const doomed = startWorker(prefix, "hang");
      await doomed.started;
      doomed.child.kill("SIGKILL");
      await new Promise((resolve) => doomed.child.on("exit", resolve));

      const survivor = startWorker(prefix, "finish");
      expect(await waiting).toBe(49);
      await new Promise((resolve) => survivor.child.on("exit", resolve));
      expect(
        JSON.parse(
          survivor
            .out()
            .split("\n")
            .find((l) => l.startsWith("{"))!,
        ),
      ).toMatchObject({ succeeded: 1 });
      // Acked: nothing of the message is left, the result is still there for anyone.
      expect(await new Queue("default", { connection }).counts()).toEqual({
        ready: 0,
        delayed: 0,
        running: 0,
        dead: 0,
      });
      expect(await Job.result(handle.id, { connection, timeout: "1s" })).toBe(49);
    } finally {
      await connection.disconnect();
      const admin = adminClient();
      await deletePrefix(admin, prefix);
      admin.disconnect();
    }
  });
});

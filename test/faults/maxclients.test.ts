/**
 * Fault: Redis at `maxclients`, so that an idle worker's blocking connection cannot reconnect
 * while its main connection is healthy. The worker must keep taking jobs (short polling on the
 * main connection, said once) and a SIGTERM must stop it within its grace: a real child process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { jobs, newPrefix, producer } from "./harness.js";
import { startRedis, until, type ThrowawayRedis } from "./redis-server.js";

const root = new URL("../..", import.meta.url).pathname;
let redis: ThrowawayRedis;
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});
afterAll(async () => {
  await redis.stop();
});

it(
  "keeps working and stops on SIGTERM when the blocking connection cannot connect",
  { timeout: 120_000 },
  async () => {
    const prefix = newPrefix();
    const admin = redis.admin();
    const p = await producer(redis.url, prefix);
    await p.declareQueue("default");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", `${root}test/faults/fixtures/redis-idle-worker.ts`, redis.url, prefix],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    const names = async (): Promise<string[]> =>
      String(await admin.client("LIST"))
        .split("\n")
        .map((line) => /\bname=(\S+)/.exec(line)?.[1] ?? "")
        .filter((name) => name.startsWith(`${prefix}:`));
    await until(
      async () => {
        const now = await names();
        return now.includes(`${prefix}:blocking`) && now.includes(`${prefix}:keepalive`);
      },
      30_000,
      "worker idle",
    );
    // Full house: no new connection is accepted; then the blocking connection is dropped.
    const connected = Number(/connected_clients:(\d+)/.exec(await admin.info("clients"))![1]);
    await admin.config("SET", "maxclients", String(connected - 1));
    for (const line of String(await admin.client("LIST")).split("\n"))
      if (line.includes(` name=${prefix}:blocking`))
        await admin.client("KILL", "ID", /\bid=(\d+)/.exec(line)![1]!);
    await until(() => /poll every/.test(out), 30_000, "the worker says it polls");
    const n = 50;
    await p.enqueue(jobs("default", "record", n));
    const ran = (): number => out.split("\n").filter((l) => l.startsWith("ran ")).length;
    await until(() => ran() >= n, 60_000, "jobs run while blocking is impossible");
    expect((await names()).includes(`${prefix}:blocking`)).toBe(false);
    child.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) =>
        setTimeout(() => resolve("still running after 30 s"), 30_000),
      ),
    ]);
    const polling = out.split("\n").filter((l) => /poll every/.test(l));
    console.log("fault maxclients:", {
      jobs: n,
      runs: ran(),
      exit: code,
      pollingNotices: polling.length,
    });
    await admin.config("SET", "maxclients", "10000");
    await p.disconnect();
    expect(ran()).toBe(n);
    expect(code).toBe(0);
    expect(out).toContain("stopped");
    expect(polling).toHaveLength(1);
  },
);

/**
 * The keep-alive thread outlives the workers that used it (one per process, started once): it
 * must never keep a process alive. A real child process runs two workers in turn, closes its
 * connection and must then exit on its own, with code 0.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { newPrefix } from "./harness.js";
import { startRedis, type ThrowawayRedis } from "./redis-server.js";

const root = new URL("../..", import.meta.url).pathname;
let redis: ThrowawayRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

it("a process exits on its own once its workers stopped and its connection closed", async () => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", `${root}test/faults/fixtures/keep-alive-exit.ts`, redis.url, newPrefix()],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const code = await Promise.race([
    new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c))),
    new Promise<string>((resolve) => setTimeout(() => resolve("still running after 20 s"), 20_000)),
  ]);
  if (code !== 0) child.kill("SIGKILL");
  expect(out.split("\n").filter(Boolean)).toEqual(["ran 0", "ran 1", "closed"]);
  expect(code).toBe(0);
}, 60_000);

/**
 * Fault: Redis stalls (CLIENT PAUSE) for longer than the lease while two workers hold jobs, some
 * running and some prefetched. Redis's own stall must not count against the leases: no job may
 * run twice, none may be lost.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { jobs, newPrefix, producer, Runs, startWorker } from "./harness.js";
import { startRedis, until, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

it("a CLIENT PAUSE longer than the lease runs no job twice", { timeout: 120_000 }, async () => {
  const prefix = newPrefix();
  const admin = redis.admin();
  const p = await producer(redis.url, prefix);
  await p.declareQueue("default");
  const n = 200;
  const leaseMs = 2000;
  const pauseMs = 5000;
  const runs = new Runs();
  const options = { concurrency: 10, leaseTime: leaseMs, jobMs: 300 } as const;
  const workers = [
    startWorker(redis.url, prefix, runs, options),
    startWorker(redis.url, prefix, runs, options),
  ];
  await p.enqueue(jobs("default", "record_default", n));
  await until(() => runs.finished.size >= 40, 60_000, "a first part done");
  await admin.client("PAUSE", pauseMs, "ALL");
  const pausedAt = Date.now();
  const doneAtPause = runs.finished.size;
  await until(
    () => Date.now() - pausedAt > pauseMs && runs.finished.size > doneAtPause + 20,
    60_000,
    "resumed",
  );
  const resumeMs = Date.now() - pausedAt - pauseMs;
  await until(() => runs.finished.size >= n, 60_000, "all done");
  await until(async () => (await p.counts("default")).running === 0, 30_000, "settled");
  const counts = await p.counts("default");
  for (const w of workers) await w.stop();
  await p.disconnect();
  const figures = runs.figures(n);
  console.log("fault pause:", {
    ...figures,
    pauseMs,
    leaseMs,
    heldAtPause: doneAtPause,
    resumeAfterPauseMs: resumeMs,
  });
  expect(figures).toEqual({ jobs: n, runs: n, lost: 0, duplicates: 0 });
  expect(counts).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
});

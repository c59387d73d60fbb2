/**
 * Fault: Redis crashes (SIGKILL) mid-run and restarts from its append-only file while two
 * workers run. Nothing may be lost, the counts must be exact afterwards, and no job may run
 * twice (commands sent again by ioredis after the reconnection answer as the first time).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { jobs, newPrefix, producer, Runs, startWorker } from "./harness.js";
import { startRedis, until, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
beforeAll(async () => {
  redis = await startRedis(["--appendonly", "yes", "--appendfsync", "always"]);
});
afterAll(async () => {
  await redis.stop();
});

it(
  "a Redis restart with AOF mid-run loses nothing and runs nothing twice",
  { timeout: 120_000 },
  async () => {
    const prefix = newPrefix();
    const p = await producer(redis.url, prefix);
    await p.declareQueue("default");
    const n = 2000;
    const runs = new Runs();
    const options = { concurrency: 20, jobMs: 5 } as const;
    const workers = [
      startWorker(redis.url, prefix, runs, options),
      startWorker(redis.url, prefix, runs, options),
    ];
    await p.enqueue(jobs("default", "record_default", n));
    await until(() => runs.finished.size >= 500, 60_000, "a first part done");
    await redis.kill();
    const downAt = Date.now();
    const doneAtCrash = runs.finished.size;
    await redis.start();
    const upAt = Date.now();
    await until(() => runs.finished.size > doneAtCrash + 50, 60_000, "resumed");
    const resumeMs = Date.now() - upAt;
    await until(() => runs.finished.size >= n, 90_000, "all done");
    await until(
      async () => {
        const c = await p.counts("default");
        return c.ready + c.delayed + c.running === 0;
      },
      60_000,
      "settled",
    );
    const counts = await p.counts("default");
    const stats = [];
    for (const w of workers) stats.push(await w.stop());
    await p.disconnect();
    const figures = runs.figures(n);
    const processed = stats.reduce((sum, s) => sum + s.processed, 0);
    console.log("fault restart:", {
      ...figures,
      doneAtCrash,
      downMs: upAt - downAt,
      resumeAfterRestartMs: resumeMs,
      workerProcessed: processed,
      counts,
    });
    expect(figures.lost).toBe(0);
    expect(counts).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    expect(figures.duplicates).toBe(0);
    expect(processed).toBe(n);
  },
);

/**
 * Fault: one queue's key holds the wrong type (WRONGTYPE), beside a healthy queue on the same
 * worker. The healthy queue's jobs must each run exactly once, none dead-lettered, and the error
 * must be logged with the broken queue's name.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { jobs, newPrefix, producer, Runs, startWorker } from "./harness.js";
import { recordingLogger, startRedis, until, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

it(
  "isolates a queue whose key has the wrong type: the healthy queue's jobs run once each",
  { timeout: 120_000 },
  async () => {
    const prefix = newPrefix();
    const admin = redis.admin();
    const p = await producer(redis.url, prefix);
    await p.declareQueue("bad");
    await p.declareQueue("good");
    await p.declareQueue("badlease");
    await p.enqueue(jobs("bad", "record_bad", 5));
    await p.enqueue(jobs("badlease", "record_badlease", 5));
    // "badlease" fails only once a message is popped for leasing: what was popped must go back.
    await admin.set(`${prefix}:{badlease}:lease`, "not a hash");
    // Both the ready set and the notify list of "bad" become strings: every script and every
    // blocking wait touching them fails with WRONGTYPE.
    await admin.set(`${prefix}:{bad}:ready`, "not a sorted set");
    await admin.set(`${prefix}:{bad}:notify`, "not a list");
    const n = 200;
    const runs = new Runs();
    const logger = recordingLogger();
    // "bad" first in the worker's list: a round that fails there must not lose "good"'s leases.
    const w = startWorker(redis.url, prefix, runs, {
      queues: ["bad", "badlease", "good"],
      concurrency: 20,
      logger,
    });
    const started = Date.now();
    await p.enqueue(jobs("good", "record_good", n));
    await until(async () => runs.finished.size >= n, 60_000, "healthy jobs done");
    const resumeMs = Date.now() - started;
    await until(async () => (await p.counts("good")).running === 0, 30_000, "settled");
    const figures = runs.figures(n);
    const badlease = (s: string): string => `${prefix}:{badlease}:${s}`;
    const stranded = {
      // Back where they waited: the sorted set or the fresh lists (see scripts/common.lua).
      ready:
        (await admin.zcard(badlease("ready"))) +
        (await admin.llen(badlease("fresh:0"))) +
        (await admin.llen(badlease("fresh:1"))) +
        (await admin.llen(badlease("fresh:2"))),
      running: await admin.zcard(badlease("running")),
    };
    const counts = await p.counts("good");
    await w.stop();
    await p.disconnect();
    console.log("fault wrongtype:", {
      ...figures,
      badleaseStillReady: stranded.ready,
      dead: counts.dead,
      timeToDrainMs: resumeMs,
    });
    expect(figures).toEqual({ jobs: n, runs: n, lost: 0, duplicates: 0 });
    expect(stranded).toEqual({ ready: 5, running: 0 });
    expect(logger.lines.some((l) => l.startsWith("error:") && l.includes('"badlease"'))).toBe(true);
    expect(counts).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    const named = logger.lines.filter((l) => l.startsWith("error:") && l.includes('"bad"'));
    expect(named.length).toBeGreaterThan(0);
    expect(named[0]).toMatch(/WRONGTYPE/);
    expect(logger.lines.some((l) => l.includes('"good"') && l.startsWith("error:"))).toBe(false);
  },
);

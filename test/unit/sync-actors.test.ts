import { describe, expect, it } from "vitest";
import { Job, Queue, Worker, type Connection } from "../../src/index.js";
import { syncRouter } from "../fixtures/sync-actors.js";
import { memoryApp } from "../helpers.js";

async function runJobs(
  jobs: Job[],
  options: { threads?: number; concurrency?: number } = {},
): Promise<{
  results: unknown[];
  connection: Connection;
  runner: Awaited<ReturnType<Worker["run"]>>;
}> {
  const { app, connection } = memoryApp();
  const worker = new Worker({ routers: [syncRouter], messagesLimit: jobs.length, ...options });
  const results = await app.magic(async () => {
    await new Queue().declare();
    const handles = await Promise.all(jobs.map((j) => j.enqueue()));
    const runner = await worker.run();
    const values = await Promise.all(
      handles.map((h, i) =>
        jobs[i]!.resultTtlMs === undefined
          ? undefined
          : h.result({ timeout: "10s" }).catch((e: unknown) => e),
      ),
    );
    return { values, runner };
  });
  return { results: results.values, connection, runner: results.runner };
}

describe("sync actors", () => {
  it("run in a worker thread, not on the event loop, and threads are reused", async () => {
    const jobs = Array.from({ length: 4 }, () => new Job("whereAmI", { storeResult: true }));
    const { results } = await runJobs(jobs, { threads: 1 });
    const places = results as { pid: number; isMainThread: boolean; threadId: number }[];
    for (const p of places) {
      expect(p.isMainThread).toBe(false);
      expect(p.pid).toBe(process.pid);
    }
    expect(new Set(places.map((p) => p.threadId)).size).toBe(1);
  });

  it("run in a pooled child process with runInProcess", async () => {
    const jobs = Array.from({ length: 3 }, () => new Job("whereAmIProcess", { storeResult: true }));
    const { results } = await runJobs(jobs, { threads: 1 });
    const places = results as { pid: number; isMainThread: boolean }[];
    for (const p of places) {
      expect(p.pid).not.toBe(process.pid);
      expect(p.isMainThread).toBe(true);
    }
    expect(new Set(places.map((p) => p.pid)).size).toBe(1);
  });

  it("receive args and context, and return JSON results", async () => {
    const { results } = await runJobs([
      new Job("add", { args: { a: 2, b: 3 }, storeResult: true, id: "add-1" }),
    ]);
    expect(results[0]).toEqual({ sum: 5, jobId: "add-1", attempt: 1 });
  });

  for (const name of ["spin", "spinInProcess"]) {
    it(`${name}: a CPU-bound sync actor does not block the worker's event loop`, async () => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      try {
        await runJobs([new Job(name, { args: { ms: 600 } })]);
      } finally {
        clearInterval(timer);
      }
      // Blocked for 600 ms, the loop would tick about once; free, it ticks dozens of times.
      expect(ticks).toBeGreaterThan(15);
    });
  }

  for (const name of ["spin", "spinInProcess"]) {
    it(`${name}: a sync actor past its timeout is stopped and the pool keeps working`, async () => {
      const jobs = [
        new Job(name, { args: { ms: 60_000 }, timeout: "300ms", storeResult: true }),
        new Job(name, { args: { ms: 1 }, storeResult: true }),
      ];
      const { results, runner } = await runJobs(jobs, { threads: 1, concurrency: 1 });
      expect(results[0]).toMatchObject({ name: "JobFailedError", remote: { code: "JOB_TIMEOUT" } });
      expect(typeof results[1]).toBe("number");
      expect(runner).toMatchObject({ deadLettered: 1, succeeded: 1 });
    });
  }

  it("a sync actor's error travels back with its name and message; NoRetryError skips retries", async () => {
    const { results, runner } = await runJobs([
      new Job("syncFails", { args: {}, storeResult: true }),
      new Job("syncFails", { args: { fatal: true }, retries: 3, storeResult: true }),
    ]);
    expect(results[0]).toMatchObject({ remote: { name: "TypeError", message: "sync failure" } });
    expect(results[1]).toMatchObject({ remote: { code: "NO_RETRY" } });
    expect(runner).toMatchObject({ deadLettered: 2, retried: 0 });
  });
});

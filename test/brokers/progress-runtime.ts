/**
 * Job progress end to end (`ctx.progress`, `handle.progress()`, `handle.watch()`), run against
 * every broker with job updates: progress-in-memory.test.ts and progress-redis.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { capabilitiesOf } from "repid/broker";
import {
  Connection,
  Job,
  JobHandle,
  NotSupportedError,
  Queue,
  Repid,
  ValidationError,
  Worker,
  silentLogger,
  type JobContext,
  type JobProgressUpdate,
} from "repid";
import type { RuntimeBrokerFactory } from "./runtime-contract.js";
import { createJobs, registry, type ImportProgress } from "../codegen/expected/basic.js";

interface Done {
  readonly done: number;
  readonly total: number;
}

export function describeProgress(name: string, factory: RuntimeBrokerFactory): void {
  describe(`progress on ${name}`, () => {
    let app: Repid;
    let cleanups: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      const made = await factory();
      cleanups.push(made.cleanup);
      const results = made.results ? { results: made.results } : {};
      app = new Repid(new Connection(made.broker, { logger: silentLogger, ...results }));
      await app.magic(() => new Queue().declare());
    });

    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    /** Collects a watch's updates; `first` resolves with the first one (the watcher listens). */
    function collect(handle: JobHandle): {
      first: Promise<JobProgressUpdate<Done>>;
      all: Promise<JobProgressUpdate<Done>[]>;
    } {
      let gate!: (u: JobProgressUpdate<Done>) => void;
      const first = new Promise<JobProgressUpdate<Done>>((r) => (gate = r));
      const all = (async () => {
        const seen: JobProgressUpdate<Done>[] = [];
        for await (const update of handle.watch<Done>()) {
          seen.push(update);
          if (seen.length === 1) gate(update);
        }
        return seen;
      })();
      return { first, all };
    }

    it("watch() sees waiting, running, each progress and succeeded, in order", async () => {
      const worker = new Worker({ messagesLimit: 1, handleSignals: [] });
      worker.actor(async function steps(_: unknown, ctx: JobContext<Done>) {
        for (let done = 1; done <= 3; done++) await ctx.progress({ done, total: 3 });
        return "ok";
      });
      await app.magic(async () => {
        const handle = await new Job("steps", { watch: true }).enqueue();
        const watching = collect(handle);
        // The gate: the worker starts only once the watcher listens and has seen the job wait.
        expect(await watching.first).toEqual({ state: "waiting", attempt: 1 });
        await worker.run();
        expect(await watching.all).toEqual([
          { state: "waiting", attempt: 1 },
          { state: "running", attempt: 1 },
          { state: "running", attempt: 1, progress: { done: 1, total: 3 } },
          { state: "running", attempt: 1, progress: { done: 2, total: 3 } },
          { state: "running", attempt: 1, progress: { done: 3, total: 3 } },
          // The end keeps the last progress.
          { state: "succeeded", attempt: 1, progress: { done: 3, total: 3 } },
        ]);
        expect(await handle.progress<Done>()).toEqual({ done: 3, total: 3 });
      });
    });

    it("progress() gives the last value reported, also for a job enqueued without watch", async () => {
      const worker = new Worker({ messagesLimit: 1, handleSignals: [] });
      worker.actor(async function quiet(_: unknown, ctx: JobContext<Done>) {
        await ctx.progress({ done: 1, total: 2 });
        await ctx.progress({ done: 2, total: 2 });
      });
      await app.magic(async () => {
        const handle = await new Job("quiet").enqueue();
        expect(await handle.progress()).toBeUndefined();
        await worker.run();
        expect(await handle.progress<Done>()).toEqual({ done: 2, total: 2 });
      });
    });

    it("with a registry, ctx.progress refuses a value its schema does not take (ValidationError, nothing published); the client decodes the rest", async () => {
      const worker = new Worker({ messagesLimit: 1, handleSignals: [], registry });
      const refused: unknown[] = [];
      worker.actor(async function importRows(
        args: { rows: number },
        ctx: JobContext<ImportProgress>,
      ) {
        await ctx.progress({ done: 1, total: args.rows, at: new Date(0) });
        // What an untyped caller could pass: the registry's schema stops it.
        const loose = ctx as JobContext<unknown>;
        for (const bad of [{ done: "2", total: args.rows }, "half way"]) {
          await loose.progress(bad).catch((error: unknown) => refused.push(error));
        }
        return args.rows;
      });
      await app.magic(async () => {
        const handle = await createJobs().importRows.enqueue({ rows: 2 });
        await worker.run();
        expect(refused).toHaveLength(2);
        for (const error of refused) {
          expect(error).toBeInstanceOf(ValidationError);
          expect(error).toMatchObject({ code: "VALIDATION", actor: "importRows" });
          expect((error as Error).message).toMatch(/^Invalid progress for actor "importRows"/);
        }
        // The last value that fit, its ISO date read back as a Date.
        const progress = await handle.progress();
        expect(progress).toEqual({ done: 1, total: 2, at: new Date(0) });
        expect(progress?.at).toBeInstanceOf(Date);
      });
    });

    it("a retried attempt shows failed, then running with attempt 2", async () => {
      const worker = new Worker({ messagesLimit: 2, handleSignals: [] });
      worker.actor({ retryPolicy: () => 0 }, async function flaky(_: unknown, ctx: JobContext) {
        if (ctx.attempt === 1) throw new Error("first attempt fails");
        await ctx.progress("second");
      });
      await app.magic(async () => {
        const handle = await new Job("flaky", { watch: true, retries: 1 }).enqueue();
        const watching = collect(handle);
        await watching.first;
        const runner = await worker.run();
        expect(runner).toMatchObject({ retried: 1, succeeded: 1 });
        expect(await watching.all).toEqual([
          { state: "waiting", attempt: 1 },
          { state: "running", attempt: 1 },
          { state: "failed", attempt: 1 },
          { state: "running", attempt: 2 },
          { state: "running", attempt: 2, progress: "second" },
          { state: "succeeded", attempt: 2, progress: "second" },
        ]);
      });
    });

    it("a job that fails for good ends its watch with dead", async () => {
      const worker = new Worker({ messagesLimit: 1, handleSignals: [] });
      worker.actor(async function doomed() {
        throw new Error("never works");
      });
      await app.magic(async () => {
        const handle = await new Job("doomed", { watch: true, storeResult: true }).enqueue();
        const watching = collect(handle);
        await watching.first;
        await worker.run();
        const seen = await watching.all;
        expect(seen.map((u) => u.state)).toEqual(["waiting", "running", "dead"]);
        expect(seen.at(-1)).toEqual({ state: "dead", attempt: 1 });
      });
    });

    it("watch({ signal }) stops when the signal aborts", async () => {
      await app.magic(async () => {
        const handle = await new Job("nobody_runs_it", { watch: true }).enqueue();
        const stop = new AbortController();
        const seen: JobProgressUpdate[] = [];
        for await (const update of handle.watch({ signal: stop.signal })) {
          seen.push(update);
          stop.abort();
        }
        expect(seen).toEqual([{ state: "waiting", attempt: 1 }]);
      });
    });

    it("a broker without progress refuses watch() and progress() with NOT_SUPPORTED", async () => {
      const broker = app.connection.broker;
      expect(capabilitiesOf(broker).progress).toBe(true);
      // The same broker, seen without the capability (as RabbitMQ declares none).
      const without = Object.create(broker, {
        capabilities: { value: { ...capabilitiesOf(broker), progress: undefined } },
      }) as typeof broker;
      const handle = new JobHandle(without, "default", "some-job", true);
      const refused = (() => {
        try {
          handle.watch();
          return undefined;
        } catch (error) {
          return error;
        }
      })();
      expect(refused).toBeInstanceOf(NotSupportedError);
      expect(refused).toMatchObject({ code: "NOT_SUPPORTED", operation: "progress" });
      await expect(handle.progress()).rejects.toMatchObject({
        code: "NOT_SUPPORTED",
        operation: "progress",
      });
    });
  });
}

/**
 * Runtime behaviour that involves a broker end to end (deferral, periodic jobs, results), run
 * against every broker: runtime-in-memory.test.ts and runtime-redis.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  capabilitiesOf,
  type BrokerCapabilities,
  type MessageBroker,
  type ResultStore,
} from "repid/broker";
import {
  Connection,
  EnqueueRefusedError,
  Job,
  JobFailedError,
  Queue,
  Repid,
  ResultTimeoutError,
  Worker,
  silentLogger,
  defineRegistry,
  type ActorContext,
  type Hooks,
} from "repid";
import { NoResultStoreError } from "repid";
import { waitFor } from "./contract.js";

export type RuntimeBrokerFactory = () => Promise<{
  broker: MessageBroker;
  cleanup: () => Promise<void>;
  /** A result store for the connection, for a broker that keeps no results itself. */
  results?: ResultStore;
}>;

export function describeRuntimeContract(name: string, factory: RuntimeBrokerFactory): void {
  describe(`runtime on ${name}`, () => {
    let app: Repid;
    let cleanups: (() => Promise<void>)[] = [];

    async function connection(): Promise<Connection> {
      const made = await factory();
      cleanups.push(made.cleanup);
      return new Connection(made.broker, made.results ? { results: made.results } : {});
    }

    /** True (and the test reported skipped) when the connection lacks what the test needs. */
    function lacks(ctx: { skip: () => void }, capability: keyof BrokerCapabilities): boolean {
      if (capabilitiesOf(app.connection.broker)[capability]) return false;
      ctx.skip();
      return true;
    }

    beforeEach(async () => {
      app = new Repid(await connection());
      await app.magic(() => new Queue().declare());
    });

    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    it("dead-letters bad input with its reason while the worker keeps running", async () => {
      const registry = defineRegistry({
        strict: {
          name: "strict",
          property: "strict",
          queue: "default",
          args: z.object({ n: z.number().int() }),
          result: z.number(),
        },
      });
      const seen: number[] = [];
      const worker = new Worker({ messagesLimit: 4, registry, handleSignals: [] });
      worker.actor(async function strict(args: { n: number }) {
        seen.push(args.n);
        return args.n;
      });
      await app.magic(async () => {
        const broker = app.connection.broker;
        const raw = { queue: "default", priority: 1, retries: 5, timeoutMs: 1000 } as const;
        await new Job("nobody_home", { retries: 5 }).enqueue();
        await broker.enqueue([{ ...raw, id: "not-json", topic: "strict", payload: "{oops" }]);
        await new Job("strict", { args: { n: 1.5 }, retries: 5 }).enqueue();
        await new Job("strict", { args: { n: 7 } }).enqueue();
        const runner = await worker.run();
        expect(seen).toEqual([7]);
        expect(runner).toMatchObject({ succeeded: 1, deadLettered: 3, retried: 0 });
        const reasons = (await new Queue().deadLetters()).map((d) => [
          d.message.topic,
          d.error.code,
        ]);
        expect(reasons.sort()).toEqual([
          ["nobody_home", "UNKNOWN_ACTOR"],
          ["strict", "INVALID_PAYLOAD"],
          ["strict", "VALIDATION"],
        ]);
      });
    });

    it("runs a worker without actors until it is stopped, without asking the broker in a loop", async () => {
      const broker = app.connection.broker;
      let receives = 0;
      const receive = broker.receive.bind(broker);
      broker.receive = (queues, options) => {
        receives++;
        return receive(queues, options);
      };
      try {
        const worker = new Worker({ handleSignals: [] });
        const running = app.magic(() => worker.run());
        // The event loop stays free while it waits (a spinning loop would never fire this timer).
        await new Promise((r) => setTimeout(r, 200));
        worker.stop();
        expect(await running).toMatchObject({ processed: 0 });
        expect(receives).toBe(0);
      } finally {
        broker.receive = receive;
      }
    });

    it("does not start a deferred job before its time, and starts it soon after", async (ctx) => {
      if (lacks(ctx, "delays")) return;
      const worker = new Worker({ messagesLimit: 2, handleSignals: [] });
      const started: Record<string, number> = {};
      worker.actor(async function deferred(args: string) {
        started[args] = Date.now();
      });
      await app.magic(async () => {
        const until = Date.now() + 500;
        await new Job("deferred", { args: "until", deferUntil: new Date(until) }).enqueue();
        const byFrom = Date.now();
        await new Job("deferred", { args: "by", deferBy: "400ms" }).enqueue();
        expect((await new Queue().counts()).delayed).toBe(2);
        await worker.run();
        expect(started["until"]).toBeGreaterThanOrEqual(until);
        expect(started["by"]).toBeGreaterThanOrEqual(byFrom + 400);
      });
    });

    it("awaits a typed result without polling, and reads it again by id from elsewhere", async (ctx) => {
      if (lacks(ctx, "results")) return;
      const worker = new Worker({ messagesLimit: 1, handleSignals: [] });
      worker.actor(async function sum(args: { a: number; b: number }) {
        return { total: args.a + args.b };
      });
      await app.magic(async () => {
        const handle = await new Job<{ a: number; b: number }, { total: number }>("sum", {
          args: { a: 2, b: 40 },
          storeResult: true,
        }).enqueue();
        const waiting = handle.result({ timeout: "10s" });
        await worker.run();
        const result: { total: number } = await waiting;
        expect(result).toEqual({ total: 42 });
        expect(await Job.result(handle.id)).toEqual({ total: 42 });
      });
      const other = new Repid(await connection());
      await other.magic(async () => {
        // A result stored while nobody waited is still read later, from another connection.
        const handle = await new Job("sum", { args: { a: 1, b: 1 }, storeResult: "1h" }).enqueue();
        const w = new Worker({ messagesLimit: 1, handleSignals: [] });
        w.actor(async function sum(args: { a: number; b: number }) {
          return args.a + args.b;
        });
        await w.run();
        expect(await Job.result(handle.id, { timeout: "1s" })).toBe(2);
      });
    });

    it("rejects the result of a failed job with the remote error", async (ctx) => {
      if (lacks(ctx, "results")) return;
      const worker = new Worker({ messagesLimit: 2, handleSignals: [] });
      worker.actor({ retryPolicy: () => 0 }, async function explode(_: unknown, ctx: ActorContext) {
        throw new RangeError(`boom on attempt ${ctx.attempt}`);
      });
      await app.magic(async () => {
        const handle = await new Job("explode", { storeResult: true, retries: 1 }).enqueue();
        await worker.run();
        const error = await handle.result({ timeout: "5s" }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(JobFailedError);
        expect(error).toMatchObject({
          attempts: 2,
          remote: { name: "RangeError", message: "boom on attempt 2" },
        });
      });
    });

    it("rejects a result wait that times out with ResultTimeoutError", async (ctx) => {
      if (lacks(ctx, "results")) return;
      await app.magic(async () => {
        const handle = await new Job("nobody", { storeResult: true }).enqueue();
        const error = await handle.result({ timeout: "200ms" }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ResultTimeoutError);
        expect((error as ResultTimeoutError).code).toBe("RESULT_TIMEOUT");
      });
    });

    it("stores results for an actor that opts in, and none for others", async (ctx) => {
      if (lacks(ctx, "results")) return;
      const worker = new Worker({ messagesLimit: 2, handleSignals: [] });
      worker.actor({ storeResult: "1m" }, async function kept() {
        return "kept";
      });
      worker.actor(async function dropped() {
        return "dropped";
      });
      await app.magic(async () => {
        const a = await new Job("kept").enqueue();
        const b = await new Job("dropped").enqueue();
        await worker.run();
        expect(await a.result({ timeout: "1s" })).toBe("kept");
        await expect(b.result({ timeout: "100ms" })).rejects.toBeInstanceOf(ResultTimeoutError);
      });
    });

    it("reschedules a recurring job after every run, success or failure, without multiplying it", async (ctx) => {
      if (lacks(ctx, "schedules")) return;
      const runs: number[] = [];
      const worker = new Worker({ messagesLimit: 3, handleSignals: [] });
      worker.actor(async function heartbeat() {
        runs.push(Date.now());
        if (runs.length === 2) throw new Error("one bad beat");
      });
      await app.magic(async () => {
        const job = new Job("heartbeat", { deferBy: "150ms", recurring: true });
        const first = Date.now() + 150;
        await job.enqueue();
        await job.enqueue();
        // One message, whether still delayed or already due (counted as ready): the second
        // enqueue did not add one.
        const pending = async (): Promise<number> => {
          const c = await new Queue().counts();
          return c.delayed + c.ready;
        };
        expect(await pending()).toBe(1);
        const runner = await worker.run();
        expect(runner.rescheduled).toBe(3);
        expect(runs).toHaveLength(3);
        // Each run is due on the fixed grid first + k * 150 ms (no drift), never before it.
        runs.forEach((at, k) => expect(at).toBeGreaterThanOrEqual(first + k * 150 - 2));
        // The next run is scheduled once: a message that is due counts as ready, so the sum is
        // what does not depend on how long the check took to start.
        await waitFor(
          async () => (await pending()) === 1 && (await new Queue().counts()).running === 0,
        );
        expect(await pending()).toBe(1);
        expect((await new Queue().counts()).dead).toBe(0);
      });
    });

    it("dead-letters a job not started within its ttl as EXPIRED, never running it; ttl counts from when a job is due", async () => {
      const ran: string[] = [];
      const worker = new Worker({ messagesLimit: 3, handleSignals: [] });
      worker.actor(async function perishable(args: string) {
        ran.push(args);
      });
      await app.magic(async () => {
        await new Job("perishable", { args: "late", ttl: "50ms" }).enqueue();
        // The ttl passes with nobody reading the queue (what ttl is for: a worker fleet that is
        // down or far behind).
        await new Promise((resolve) => setTimeout(resolve, 120));
        await new Job("perishable", { args: "fresh", ttl: "1h" }).enqueue();
        await new Job("perishable", { args: "deferred", ttl: "1h", deferBy: "100ms" }).enqueue();
        const counts = await worker.run();
        expect(ran.sort()).toEqual(["deferred", "fresh"]);
        expect(counts).toMatchObject({ succeeded: 2, deadLettered: 1, failed: 0 });
        const dead = await new Queue().deadLetters();
        expect(dead.map((d) => [JSON.parse(d.message.payload!), d.error.code])).toEqual([
          ["late", "EXPIRED"],
        ]);
      });
    });

    it("dedupe: an enqueue of the id within its window, also after the job ran, creates nothing and gives the first job's result", async (ctx) => {
      if (lacks(ctx, "dedupe") || lacks(ctx, "results")) return;
      const runs: number[] = [];
      const worker = new Worker({ messagesLimit: 1, handleSignals: [] });
      worker.actor({ storeResult: "1m" }, async function daily_report(args: number) {
        runs.push(args);
        return args * 2;
      });
      await app.magic(async () => {
        const job = (n: number): Job =>
          new Job("daily_report", { id: "daily", args: n, dedupe: "1m" });
        const first = await job(1).enqueue();
        const again = await job(2).enqueue();
        expect([first.created, again.created]).toEqual([true, false]);
        await worker.run();
        const after = await job(3).enqueue();
        expect(after.created).toBe(false);
        expect(await after.result({ timeout: "1s" })).toBe(2);
        expect(runs).toEqual([1]);
        expect((await new Queue().counts()).ready).toBe(0);
      });
    });

    it("a broker without dedupe refuses a job with a dedupe window, sending nothing", async (ctx) => {
      if (capabilitiesOf(app.connection.broker).dedupe) return ctx.skip();
      await app.magic(async () => {
        await expect(
          new Job("daily_report", { id: "daily", dedupe: "1m" }).enqueue(),
        ).rejects.toMatchObject({ code: "NOT_SUPPORTED", operation: "dedupe" });
        expect((await new Queue().counts()).ready).toBe(0);
      });
    });

    it("debounce: five enqueues in a burst run the job once, with the last arguments; every handle gets that run's result", async (ctx) => {
      if (lacks(ctx, "debounce") || lacks(ctx, "results")) return;
      const runs: number[] = [];
      const worker = new Worker({ messagesLimit: 2, handleSignals: [] });
      worker.actor({ storeResult: "1m" }, async function reindex(args: number) {
        runs.push(args);
        return args * 10;
      });
      await app.magic(async () => {
        const job = (n: number): Job<number, number> =>
          new Job("reindex", { id: "reindex", args: n, debounce: "200ms" });
        const handles = [];
        for (let n = 1; n <= 5; n++) handles.push(await job(n).enqueue());
        expect(handles.map((h) => h.created)).toEqual([true, false, false, false, false]);
        expect(await new Queue().counts()).toMatchObject({ delayed: 1, ready: 0 });
        const running = worker.run();
        expect(await Promise.all(handles.map((h) => h.result({ timeout: "5s" })))).toEqual([
          50, 50, 50, 50, 50,
        ]);
        expect(runs).toEqual([5]);
        // Later, another burst: one more run.
        await job(6).enqueue();
        await job(7).enqueue();
        await running;
        expect(runs).toEqual([5, 7]);
      });
    });

    it("a broker without debounce refuses a debounced job, sending nothing; a debounce needs an id", async (ctx) => {
      expect(() => new Job("reindex", { debounce: "1s" })).toThrow(/needs an id/);
      if (capabilitiesOf(app.connection.broker).debounce) return ctx.skip();
      await app.magic(async () => {
        await expect(
          new Job("reindex", { id: "reindex", debounce: "1s" }).enqueue(),
        ).rejects.toMatchObject({ code: "NOT_SUPPORTED", operation: "debounce" });
        expect(await new Queue().counts()).toMatchObject({ ready: 0, delayed: 0 });
      });
    });

    it("a worker whose actor has limits refuses to start on a broker without them, taking nothing", async (ctx) => {
      if (capabilitiesOf(app.connection.broker).limits) return ctx.skip();
      const worker = new Worker({ handleSignals: [] });
      let ran = 0;
      worker.actor({ concurrency: { limit: 2 } }, async function limited_here() {
        ran++;
      });
      await app.magic(async () => {
        await new Job("limited_here").enqueue();
        await expect(worker.run()).rejects.toMatchObject({
          code: "NOT_SUPPORTED",
          operation: "limits",
        });
        expect(ran).toBe(0);
        expect((await new Queue().counts()).ready).toBe(1);
      });
    });

    it("keeps a cron job on schedule across a worker restart", async (ctx) => {
      if (lacks(ctx, "schedules")) return;
      const seconds: number[] = [];
      const make = (): Worker => {
        const w = new Worker({ messagesLimit: 1, handleSignals: [] });
        w.actor(async function restartable() {
          seconds.push(Math.floor(Date.now() / 1000));
        });
        return w;
      };
      await app.magic(async () => {
        await new Job("restartable", { cron: "* * * * * *" }).enqueue();
        expect((await make().run()).rescheduled).toBe(1);
        // The first worker is gone; the schedule lives in the broker, and the next one carries on.
        // One scheduled run (delayed, or ready if its second has come already).
        const counts = await new Queue().counts();
        expect(counts.delayed + counts.ready).toBe(1);
        expect((await make().run()).rescheduled).toBe(1);
      });
      expect(seconds).toHaveLength(2);
      expect(seconds[1]).toBeGreaterThan(seconds[0]!);
    });

    it("a changed schedule replaces the old one; schedules can be listed and removed (issue 9.6)", async (ctx) => {
      if (lacks(ctx, "schedules")) return;
      await app.magic(async () => {
        const queue = new Queue();
        await new Job("report", { cron: "*/2 * * * * *" }).enqueue();
        await new Job("report", { cron: "0 0 2 * * *" }).enqueue();
        await new Job("cleanup", { deferBy: "1h", recurring: true }).enqueue();
        const listed = await queue.schedules();
        expect(listed.map((s) => [s.topic, s.schedule])).toEqual([
          ["cleanup", { everyMs: 3_600_000 }],
          ["report", { cron: "0 0 2 * * *" }],
        ]);
        const report = listed.find((s) => s.topic === "report")!;
        // The daily 02:00 run, not the old two-second one.
        expect(new Date(report.nextRunAt).getUTCHours()).toBe(2);
        expect(await queue.removeSchedule(report.id)).toBe(true);
        expect((await queue.schedules()).map((s) => s.topic)).toEqual(["cleanup"]);
        expect(await queue.removeSchedule(report.id)).toBe(false);
      });
    });

    it("runs hooks in order with the right data; headers reach the actor; a throwing hook changes nothing (issue 11)", async () => {
      // What each hook saw, per job (jobs run concurrently, so only each job's own order is fixed).
      const seen = new Map<string, string[]>();
      const log = (key: string, what: string): void => {
        seen.set(key, [...(seen.get(key) ?? []), what]);
      };
      const headersSeen: Record<string, string>[] = [];
      const hooks: Hooks[] = [
        {
          onEnqueue(e) {
            log(e.id, `enqueue:${e.actor}`);
            e.headers["trace"] = `t-${e.id}`;
          },
          async aroundRun(e, next) {
            log(e.id, `around:${e.attempt}:${e.headers["trace"] === `t-${e.id}`}`);
            const outcome = await next();
            log(e.id, `around-done:${outcome.ok}`);
            return outcome;
          },
          onEvent(e) {
            if (e.type === "worker-started" || e.type === "worker-stopping") log("worker", e.type);
            else if (e.type === "retried" || e.type === "dead-lettered")
              log(e.job.id, `${e.type}:${e.job.attempt}:${e.error.message}`);
            else if (e.type === "succeeded" || e.type === "started")
              log(e.job.id, `${e.type}:${e.job.attempt}`);
          },
        },
        {
          onEnqueue() {
            throw new Error("broken enqueue hook");
          },
          async aroundRun() {
            throw new Error("broken around hook");
          },
          onEvent() {
            throw new Error("broken event hook");
          },
        },
      ];
      const made = await factory();
      cleanups.push(made.cleanup);
      const logged: string[] = [];
      const logger = {
        debug: () => {},
        info: () => {},
        warn: (m: string) => void logged.push(m),
        error: (m: string) => void logged.push(m),
      };
      const hooked = new Repid(new Connection(made.broker, { hooks, logger }));
      let runs = 0;
      const worker = new Worker({ messagesLimit: 3, handleSignals: [] });
      worker.actor(async function hooked_ok(_: unknown, ctx: ActorContext) {
        runs++;
        headersSeen.push({ ...ctx.headers });
      });
      worker.actor({ retryPolicy: () => 0 }, async function hooked_fails() {
        runs++;
        throw new Error("boom");
      });
      const runner = await hooked.magic(async () => {
        await new Queue().declare();
        const ok = await new Job("hooked_ok", { id: "ok-1" }).enqueue();
        expect(ok.id).toBe("ok-1");
        await new Job("hooked_fails", { id: "fails-1", retries: 1 }).enqueue();
        return worker.run();
      });
      expect(runs).toBe(3);
      expect(runner).toMatchObject({ processed: 3, succeeded: 1, retried: 1, deadLettered: 1 });
      expect(headersSeen).toEqual([{ trace: "t-ok-1" }]);
      expect(seen.get("ok-1")).toEqual([
        "enqueue:hooked_ok",
        "started:1",
        "around:1:true",
        "around-done:true",
        "succeeded:1",
      ]);
      // The retry notification follows the applied settlement, which may race the redelivery.
      const fails = seen.get("fails-1")!;
      expect(fails.filter((x) => !x.startsWith("retried"))).toEqual([
        "enqueue:hooked_fails",
        "started:1",
        "around:1:true",
        "around-done:false",
        "started:2",
        "around:2:true",
        "around-done:false",
        "dead-lettered:2:boom",
      ]);
      expect(fails.filter((x) => x.startsWith("retried"))).toEqual(["retried:1:boom"]);
      expect(fails.indexOf("retried:1:boom")).toBeGreaterThan(fails.indexOf("around-done:false"));
      expect(seen.get("worker")).toEqual(["worker-started", "worker-stopping"]);
      // Each broken hook is logged once (then only every 100th time), never per message.
      expect(logged.filter((m) => /hook threw/.test(m)).sort()).toEqual([
        expect.stringMatching(/an aroundRun hook threw \(1 time so far\)/),
        expect.stringMatching(/an onEnqueue hook threw \(1 time so far\)/),
        expect.stringMatching(/an onEvent hook threw \(1 time so far\)/),
      ]);
    });

    it("without results on its broker and no result store, storeResult fails at enqueue and sends nothing", async (ctx) => {
      const made = await factory();
      cleanups.push(made.cleanup);
      if (capabilitiesOf(made.broker).results) return ctx.skip();
      const bare = new Repid(new Connection(made.broker));
      await bare.magic(async () => {
        await new Queue().declare();
        const error = await new Job("kept", { storeResult: true })
          .enqueue()
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NoResultStoreError);
        expect((error as NoResultStoreError).code).toBe("NO_RESULT_STORE");
        await new Job("plain").enqueue();
        expect((await new Queue().counts()).ready).toBe(1);
      });
    });

    it("an onEnqueue hook can refuse a message: nothing is sent (issue 11)", async () => {
      const made = await factory();
      cleanups.push(made.cleanup);
      const refusing = new Repid(
        new Connection(made.broker, {
          hooks: [{ onEnqueue: (e) => e.actor !== "forbidden" }],
          logger: silentLogger,
        }),
      );
      await refusing.magic(async () => {
        await new Queue().declare();
        await expect(new Job("forbidden").enqueue()).rejects.toBeInstanceOf(EnqueueRefusedError);
        await new Job("allowed").enqueue();
        expect((await new Queue().counts()).ready).toBe(1);
      });
    });

    it("runs a cron job once per tick with two workers running", async (ctx) => {
      if (lacks(ctx, "schedules")) return;
      const ticks = new Map<number, number>();
      const make = (): Worker => {
        const w = new Worker({ handleSignals: [] });
        w.actor(async function everySecond(_: unknown, ctx: ActorContext) {
          const second = Math.floor(Date.now() / 1000);
          ticks.set(second, (ticks.get(second) ?? 0) + 1);
          void ctx;
        });
        return w;
      };
      const second = new Repid(await connection());
      const [a, b] = [make(), make()];
      await app.magic(() => new Job("everySecond", { cron: "* * * * * *" }).enqueue());
      const runA = app.magic(() => a.run());
      const runB = second.magic(() => b.run());
      await waitFor(() => ticks.size >= 3, 10_000);
      a.stop();
      b.stop();
      const [ra, rb] = await Promise.all([runA, runB]);
      expect(ra.rescheduled + rb.rescheduled).toBe([...ticks.values()].reduce((x, y) => x + y, 0));
      for (const count of ticks.values()) expect(count).toBe(1);
    });
  });
}

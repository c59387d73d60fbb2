/**
 * Progress of flows (issue 27): `FlowHandle.progress()` gives the current step's latest progress,
 * `FlowHandle.watch()` follows the current step as the flow moves, naming each step, until the
 * flow ends. Run against every broker with job updates and flows: flow-progress-in-memory.test.ts
 * and flow-progress-redis.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Connection,
  NoRetryError,
  Queue,
  Repid,
  Router,
  Worker,
  createClient,
  defineRegistry,
  flow,
  silentLogger,
  type FlowHandle,
  type FlowProgressUpdate,
  type JobContext,
} from "repid";
import type { RuntimeBrokerFactory } from "./runtime-contract.js";

const Progress = z.object({ actor: z.string(), done: z.number() });
type Progress = z.infer<typeof Progress>;
const Count = z.object({ n: z.number() });

function step<const N extends string>(name: N, queue = "default") {
  return { name, property: name, queue, args: Count, result: Count, progress: Progress };
}

const registry = defineRegistry({
  first: step("first"),
  second: step("second", "other"),
  third: step("third"),
  failing: step("failing"),
  join: { ...step("join", "other"), args: z.array(Count) },
});

/** Gates of the `second` actor, for a test that looks at a flow while it runs. */
interface Gates {
  reached?: () => void;
  release?: Promise<void>;
}

/** Each actor reports `{ actor, done }` twice (`failing` none) and returns `n + 1`. */
function actors(gates: Gates): Router {
  const router = new Router();
  const counting = (actor: string) => async (args: { n: number }, ctx: JobContext<Progress>) => {
    await ctx.progress({ actor, done: 1 });
    await ctx.progress({ actor, done: 2 });
    if (actor === "second" && gates.release) {
      gates.reached?.();
      await gates.release;
    }
    return { n: args.n + 1 };
  };
  router.actor({ name: "first" }, counting("first"));
  router.actor({ name: "second", queue: "other" }, counting("second"));
  router.actor({ name: "third" }, counting("third"));
  router.actor({ name: "failing" }, async (_: { n: number }): Promise<{ n: number }> => {
    throw new NoRetryError("this step never works");
  });
  router.actor(
    { name: "join", queue: "other" },
    async (args: { n: number }[], ctx: JobContext<Progress>) => {
      await ctx.progress({ actor: "join", done: args.length });
      return { n: args.reduce((sum, a) => sum + a.n, 0) };
    },
  );
  return router;
}

/** What a test compares: each update with its step named by stage, branch and actor. */
function brief(u: FlowProgressUpdate<Progress>): unknown {
  const { jobId, ...where } = u.step;
  void jobId;
  return { ...where, state: u.state, attempt: u.attempt, progress: u.progress };
}

/** `running, done 1, done 2, succeeded` of one chain step (its lifecycle published). */
function watchedStep(stage: number, actor: string): unknown[] {
  return [
    { stage, actor, state: "running", attempt: 1, progress: undefined },
    ...progressOf(stage, actor),
    { stage, actor, state: "succeeded", attempt: 1, progress: { actor, done: 2 } },
  ];
}

function progressOf(stage: number, actor: string): unknown[] {
  return [1, 2].map((done) => ({
    stage,
    actor,
    state: "running",
    attempt: 1,
    progress: { actor, done },
  }));
}

export function describeFlowProgress(name: string, factory: RuntimeBrokerFactory): void {
  describe(`flow progress on ${name}`, () => {
    let app: Repid;
    /** Run last first after each test: the worker stops before its broker goes. */
    const cleanups: (() => Promise<unknown>)[] = [];
    const jobs = createClient(registry);
    const gates: Gates = {};

    beforeEach(async () => {
      const made = await factory();
      cleanups.push(made.cleanup);
      const results = made.results ? { results: made.results } : {};
      app = new Repid(new Connection(made.broker, { logger: silentLogger, ...results }));
      delete gates.reached;
      delete gates.release;
      await app.magic(async () => {
        for (const queue of ["default", "other"]) await new Queue(queue).declare();
      });
    });

    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    /** One worker with one slot, so that the steps of an `all` run one after the other. */
    function start(): void {
      const worker = new Worker({
        routers: [actors(gates)],
        registry,
        handleSignals: [],
        concurrency: 1,
        connection: app.connection,
      });
      const running = worker.run();
      cleanups.push(async () => {
        worker.stop();
        await running;
      });
    }

    /** Collects a watch's updates; `first` resolves with the first one (the watcher listens). */
    function collect(handle: FlowHandle<unknown>): {
      first: Promise<unknown>;
      all: Promise<unknown[]>;
    } {
      let gate!: (u: unknown) => void;
      const first = new Promise<unknown>((r) => (gate = r));
      const all = (async () => {
        const seen: unknown[] = [];
        for await (const update of handle.watch<Progress>()) {
          seen.push(brief(update));
          if (seen.length === 1) gate(seen[0]);
        }
        return seen;
      })();
      return { first, all };
    }

    const chain = () =>
      flow(jobs.first.with({ n: 0 }))
        .then(jobs.second)
        .then(jobs.third);

    it("watch() of a watched chain of three: each step's running, progress and succeeded, stage by stage, then ends", async () => {
      await app.magic(async () => {
        const handle = await chain().enqueue({ watch: true });
        const watching = collect(handle);
        // The worker starts once the watcher listens and has seen the first step wait.
        expect(await watching.first).toEqual({
          stage: 0,
          actor: "first",
          state: "waiting",
          attempt: 1,
          progress: undefined,
        });
        start();
        expect(await handle.result({ timeout: "10s" })).toEqual({ n: 3 });
        expect(await watching.all).toEqual([
          await watching.first,
          ...watchedStep(0, "first"),
          ...watchedStep(1, "second"),
          ...watchedStep(2, "third"),
        ]);
        // Watched after the end, the flow shows its last step's end, and the watch ends.
        expect(await collect(handle).all).toEqual(watchedStep(2, "third").slice(-1));
      });
    });

    it("watch() of a chain enqueued without watch: progress, and each step's end when the next step shows", async () => {
      await app.magic(async () => {
        const handle = await chain().enqueue();
        const watching = collect(handle);
        await watching.first;
        start();
        await handle.result({ timeout: "10s" });
        const ended = (stage: number, actor: string) => ({
          stage,
          actor,
          state: "succeeded",
          attempt: 1,
          progress: { actor, done: 2 },
        });
        expect(await watching.all).toEqual([
          { stage: 0, actor: "first", state: "waiting", attempt: 1, progress: undefined },
          ...progressOf(0, "first"),
          ended(0, "first"),
          ...progressOf(1, "second"),
          ended(1, "second"),
          ...progressOf(2, "third"),
          ended(2, "third"),
        ]);
      });
    });

    it("watch() ends at a dead step, naming it; the steps after it never show", async () => {
      await app.magic(async () => {
        const handle = await flow(jobs.first.with({ n: 0 }))
          .then(jobs.failing)
          .then(jobs.third)
          .enqueue({ watch: true });
        const watching = collect(handle);
        await watching.first;
        start();
        await expect(handle.result({ timeout: "10s" })).rejects.toMatchObject({
          code: "FLOW_FAILED",
        });
        const seen = await watching.all;
        expect(seen).toEqual([
          await watching.first,
          ...watchedStep(0, "first"),
          { stage: 1, actor: "failing", state: "running", attempt: 1, progress: undefined },
          { stage: 1, actor: "failing", state: "dead", attempt: 1, progress: undefined },
        ]);
        // Watched after the end, the flow shows where it stopped.
        expect(await collect(handle).all).toEqual([seen.at(-1)]);
        // The step that failed reported nothing: an earlier step's progress is not the flow's.
        expect(await handle.progress()).toBeUndefined();
      });
    });

    it("watch() of an all: each branch's updates in order, then the join's; ends with the join", async () => {
      await app.magic(async () => {
        const handle = await flow
          .all([jobs.first.with({ n: 1 }), jobs.third.with({ n: 2 })])
          .then(jobs.join)
          .enqueue({ watch: true });
        const watching = collect(handle);
        await watching.first;
        start();
        expect(await handle.result({ timeout: "10s" })).toEqual({ n: 5 });
        const seen = (await watching.all) as { stage: number; branch?: number }[];
        const of = (stage: number, branch?: number) =>
          seen.filter((u) => u.stage === stage && u.branch === branch);
        const branch = (b: number, actor: string) =>
          [
            { state: "waiting", attempt: 1, progress: undefined },
            { state: "running", attempt: 1, progress: undefined },
            { state: "running", attempt: 1, progress: { actor, done: 1 } },
            { state: "running", attempt: 1, progress: { actor, done: 2 } },
            { state: "succeeded", attempt: 1, progress: { actor, done: 2 } },
          ].map((u) => ({ stage: 0, branch: b, actor, ...u }));
        expect(of(0, 0)).toEqual(branch(0, "first"));
        expect(of(0, 1)).toEqual(branch(1, "third"));
        expect(of(1)).toEqual([
          { stage: 1, actor: "join", state: "running", attempt: 1, progress: undefined },
          {
            stage: 1,
            actor: "join",
            state: "running",
            attempt: 1,
            progress: { actor: "join", done: 2 },
          },
          {
            stage: 1,
            actor: "join",
            state: "succeeded",
            attempt: 1,
            progress: { actor: "join", done: 2 },
          },
        ]);
        expect(seen).toHaveLength(13);
        // The stage never goes back.
        const stages = seen.map((u) => u.stage);
        expect(stages).toEqual([...stages].sort((a, b) => a - b));
      });
    });

    it("progress() gives the current step's latest progress, not an earlier step's", async () => {
      const reached = new Promise<void>((r) => (gates.reached = r));
      let release!: () => void;
      gates.release = new Promise<void>((r) => (release = r));
      await app.magic(async () => {
        const handle = await chain().enqueue();
        expect(await handle.progress()).toBeUndefined();
        start();
        await reached;
        expect(await handle.progress<Progress>()).toEqual({ actor: "second", done: 2 });
        release();
        await handle.result({ timeout: "10s" });
        expect(await handle.progress<Progress>()).toEqual({ actor: "third", done: 2 });
      });
    });

    it("watch({ signal }) stops when the signal aborts", async () => {
      await app.magic(async () => {
        const handle = await chain().enqueue();
        const stop = new AbortController();
        const seen: unknown[] = [];
        for await (const update of handle.watch({ signal: stop.signal })) {
          seen.push(brief(update as FlowProgressUpdate<Progress>));
          stop.abort();
        }
        expect(seen).toEqual([
          { stage: 0, actor: "first", state: "waiting", attempt: 1, progress: undefined },
        ]);
      });
    });
  });
}

import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Job,
  NoRetryError,
  Priority,
  Queue,
  Router,
  Worker,
  defineRegistry,
  type ActorContext,
} from "../../src/index.js";
import { memoryApp, waitFor } from "../helpers.js";

describe("Worker.run", () => {
  it("runs the seed's recap: declare, enqueue, actor, worker with messagesLimit 1", async () => {
    const { app, connection } = memoryApp();
    const router = new Router();
    const said: string[] = [];
    router.actor(async function awesome_hello() {
      said.push("Hello from an actor!");
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("awesome_hello").enqueue();
    });
    const runner = await app.magic(
      () => new Worker({ routers: [router], messagesLimit: 1 }).run(),
      {
        autoDisconnect: true,
      },
    );
    expect(said).toEqual(["Hello from an actor!"]);
    expect(runner.processed).toBe(1);
    expect(runner.succeeded).toBe(1);
    expect(connection.isConnected).toBe(false);
  });

  it("passes args and a context with jobId, attempt and an AbortSignal", async () => {
    const { app } = memoryApp();
    const seen: { args: unknown; ctx: ActorContext }[] = [];
    const worker = new Worker({ messagesLimit: 1 });
    worker.actor(async function greet(args: { name: string }, ctx: ActorContext) {
      seen.push({ args, ctx });
    });
    await app.magic(async () => {
      await new Queue().declare();
      const handle = await new Job("greet", { args: { name: "Ada" } }).enqueue();
      await worker.run();
      expect(seen[0]!.args).toEqual({ name: "Ada" });
      expect(seen[0]!.ctx.jobId).toBe(handle.id);
      expect(seen[0]!.ctx.attempt).toBe(1);
      expect(seen[0]!.ctx.signal).toBeInstanceOf(AbortSignal);
      expect((await new Queue().counts()).ready + (await new Queue().counts()).running).toBe(0);
    });
  });

  it("declares the queues of its actors unless autoDeclare is false", async () => {
    const { app, broker } = memoryApp();
    await app.magic(async () => {
      const a = new Worker({ messagesLimit: 1, autoDeclare: false });
      a.actor({ queue: "q-undeclared" }, async function x() {});
      setTimeout(() => a.stop(), 50);
      await a.run();
      expect(await broker.queueExists("q-undeclared")).toBe(false);
      const b = new Worker({ messagesLimit: 1 });
      b.actor({ queue: "q-declared" }, async function x() {});
      setTimeout(() => b.stop(), 50);
      await b.run();
      expect(await broker.queueExists("q-declared")).toBe(true);
    });
  });

  it("listens on each actor's queue", async () => {
    const { app } = memoryApp();
    const ran: string[] = [];
    const worker = new Worker({ messagesLimit: 2 });
    worker.actor({ queue: "another_queue" }, async function inOther() {
      ran.push("other");
    });
    worker.actor(async function inDefault() {
      ran.push("default");
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Queue("another_queue").declare();
      await new Job("inOther", { queue: "another_queue" }).enqueue();
      await new Job("inDefault").enqueue();
      await worker.run();
    });
    expect(ran.sort()).toEqual(["default", "other"]);
  });

  it("processes HIGH before MEDIUM before LOW", async () => {
    const { app } = memoryApp();
    const order: string[] = [];
    const worker = new Worker({ messagesLimit: 4, concurrency: 1 });
    worker.actor(async function job(args: string) {
      order.push(args);
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("job", { args: "low", priority: Priority.LOW }).enqueue();
      await new Job("job", { args: "medium" }).enqueue();
      await new Job("job", { args: "high", priority: Priority.HIGH }).enqueue();
      await new Job("job", { args: "high2", priority: "high" }).enqueue();
      await worker.run();
    });
    expect(order).toEqual(["high", "high2", "medium", "low"]);
  });

  it("stops after messagesLimit and leaves the rest queued", async () => {
    const { app } = memoryApp();
    let runs = 0;
    const worker = new Worker({ messagesLimit: 3, concurrency: 2 });
    worker.actor(async function count() {
      runs++;
    });
    await app.magic(async () => {
      await new Queue().declare();
      for (let i = 0; i < 5; i++) await new Job("count").enqueue();
      const runner = await worker.run();
      expect(runner.processed).toBe(3);
      expect(runs).toBe(3);
      expect((await new Queue().counts()).ready).toBe(2);
    });
  });
});

describe("failures, retries and dead letters", () => {
  it("with retries 0 runs once and dead-letters the failure with its details", async () => {
    const { app } = memoryApp();
    let runs = 0;
    const worker = new Worker({ messagesLimit: 1 });
    worker.actor(async function my_exceptional_function() {
      runs++;
      throw new Error("Some random exception.");
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("my_exceptional_function").enqueue();
      const runner = await worker.run();
      expect(runs).toBe(1);
      expect(runner).toMatchObject({ processed: 1, failed: 1, deadLettered: 1, retried: 0 });
      const [dead] = await new Queue().deadLetters();
      expect(dead!.error).toMatchObject({ name: "Error", message: "Some random exception." });
      expect(dead!.error.stack).toContain("Some random exception.");
      expect(dead!.message.attempt).toBe(1);
      expect(dead!.failedAt).toBeGreaterThanOrEqual(dead!.message.enqueuedAt);
    });
  });

  it("retries with the actor's policy, raising the attempt, then dead-letters", async () => {
    const { app } = memoryApp();
    const attempts: number[] = [];
    const policyCalls: number[] = [];
    const worker = new Worker({ messagesLimit: 4 });
    worker.actor(
      {
        retryPolicy: (n) => {
          policyCalls.push(n);
          return n * 20;
        },
      },
      async function flaky(_args: unknown, ctx: ActorContext) {
        attempts.push(ctx.attempt);
        throw new Error(`attempt ${ctx.attempt}`);
      },
    );
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("flaky", { retries: 3 }).enqueue();
      const runner = await worker.run();
      expect(attempts).toEqual([1, 2, 3, 4]);
      expect(policyCalls).toEqual([1, 2, 3]);
      expect(runner).toMatchObject({ processed: 4, retried: 3, deadLettered: 1, failed: 4 });
      const [dead] = await new Queue().deadLetters();
      expect(dead!.error.message).toBe("attempt 4");
      expect(dead!.message.attempt).toBe(4);
    });
  });

  it("delays a retry by the policy's value", async () => {
    const { app } = memoryApp();
    const times: number[] = [];
    const worker = new Worker({ messagesLimit: 2 });
    worker.actor({ retryPolicy: () => 300 }, async function slowRetry() {
      times.push(Date.now());
      if (times.length === 1) throw new Error("first fails");
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("slowRetry", { retries: 1 }).enqueue();
      await worker.run();
    });
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(290);
  });

  it("treats a timeout as a reason to retry, and dead-letters a JobTimeoutError at the end", async () => {
    const { app } = memoryApp();
    let signalAborted = false;
    const worker = new Worker({ messagesLimit: 2 });
    worker.actor(
      { retryPolicy: () => 0 },
      async function very_slow_job(_: unknown, ctx: ActorContext) {
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
        signalAborted = ctx.signal.aborted;
      },
    );
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("very_slow_job", { timeout: "100ms", retries: 1 }).enqueue();
      const runner = await worker.run();
      expect(runner).toMatchObject({ retried: 1, deadLettered: 1 });
      const [dead] = await new Queue().deadLetters();
      expect(dead!.error).toMatchObject({ name: "JobTimeoutError", code: "JOB_TIMEOUT" });
    });
    expect(signalAborted).toBe(true);
  });

  it("caps the job's timeout with the actor's", async () => {
    const { app } = memoryApp();
    const worker = new Worker({ messagesLimit: 1 });
    worker.actor({ timeout: "50ms" }, async function capped(_: unknown, ctx: ActorContext) {
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("capped", { timeout: "1h" }).enqueue();
      await worker.run();
      const [dead] = await new Queue().deadLetters();
      expect(dead!.error.message).toMatch(/50 ms/);
    });
  });

  it("dead-letters at once on NoRetryError whatever retries are left", async () => {
    const { app } = memoryApp();
    let runs = 0;
    const worker = new Worker({ messagesLimit: 1 });
    worker.actor(async function fatal() {
      runs++;
      throw new NoRetryError("not worth retrying");
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("fatal", { retries: 5 }).enqueue();
      await worker.run();
      expect(runs).toBe(1);
      expect((await new Queue().deadLetters())[0]!.error.code).toBe("NO_RETRY");
    });
  });
});

describe("bad input reaching a worker", () => {
  it("validates payloads with a registry and dead-letters invalid ones without retries", async () => {
    const { app } = memoryApp();
    const received: unknown[] = [];
    const registry = defineRegistry({
      send: {
        name: "send",
        property: "send",
        queue: "default",
        args: z.object({ to: z.string().email(), count: z.number().int().default(1) }),
        result: z.void(),
      },
    });
    const worker = new Worker({ messagesLimit: 2, registry });
    worker.actor(async function send(args: { to: string; count: number }) {
      received.push(args);
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("send", { args: { to: "nope" }, retries: 3 }).enqueue();
      await new Job("send", { args: { to: "a@b.co" } }).enqueue();
      const runner = await worker.run();
      expect(runner).toMatchObject({ deadLettered: 1, succeeded: 1, retried: 0 });
      const [dead] = await new Queue().deadLetters();
      expect(dead!.error).toMatchObject({ code: "VALIDATION", name: "ValidationError" });
      expect(dead!.error.message).toMatch(/actor "send"/);
      expect(dead!.error.message).toMatch(/to:/);
    });
    expect(received).toEqual([{ to: "a@b.co", count: 1 }]);
  });
});

describe("shutdown", () => {
  it("stops on a handled signal and returns what it processed", async () => {
    const { app } = memoryApp();
    const worker = new Worker({ handleSignals: ["SIGUSR2"] });
    let ran = 0;
    worker.actor(async function tick() {
      ran++;
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("tick").enqueue();
      const running = worker.run();
      await waitFor(() => ran === 1);
      process.kill(process.pid, "SIGUSR2");
      const runner = await running;
      expect(runner.processed).toBe(1);
    });
    expect(process.listenerCount("SIGUSR2")).toBe(0);
  });

  it("lets running actors finish within gracefulShutdownTime", async () => {
    const { app } = memoryApp();
    const worker = new Worker({ gracefulShutdownTime: "5s" });
    let started = false;
    worker.actor(async function finishes() {
      started = true;
      await new Promise((r) => setTimeout(r, 200));
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("finishes").enqueue();
      const running = worker.run();
      await waitFor(() => started);
      worker.stop();
      const runner = await running;
      expect(runner).toMatchObject({ succeeded: 1, rejected: 0 });
      expect(await new Queue().counts()).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    });
  });

  it("rejects what outlives the grace period: back in the queue, attempt unchanged, no retry counted", async () => {
    const { app } = memoryApp();
    const worker = new Worker({ gracefulShutdownTime: "100ms" });
    let started = false;
    let aborted = false;
    worker.actor(async function stuck(_: unknown, ctx: ActorContext) {
      started = true;
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
      aborted = true;
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("stuck", { retries: 3 }).enqueue();
      const running = worker.run();
      await waitFor(() => started);
      worker.stop();
      const runner = await running;
      expect(aborted).toBe(true);
      expect(runner).toMatchObject({ processed: 0, rejected: 1, retried: 0, failed: 0 });
      expect(await new Queue().counts()).toEqual({ ready: 1, delayed: 0, running: 0, dead: 0 });
      const [again] = await app.connection.broker.receive(["default"], { max: 1, leaseMs: 1000 });
      expect(again!.message.attempt).toBe(1);
    });
  });

  it("gives prefetched, unstarted messages back at once on a stop, and runs them under messagesLimit", async () => {
    const { app } = memoryApp();
    const started: number[] = [];
    const worker = new Worker({ concurrency: 1, prefetch: 2, gracefulShutdownTime: "50ms" });
    worker.actor(async function hold(n: number, ctx: ActorContext) {
      started.push(n);
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
    });
    await app.magic(async () => {
      await new Queue().declare();
      for (const n of [1, 2, 3]) await new Job("hold", { args: n }).enqueue();
      const running = worker.run();
      await waitFor(() => started.length === 1);
      // One runs, two wait in the worker's buffer, all three leased.
      expect(await new Queue().counts()).toMatchObject({ ready: 0, running: 3 });
      worker.stop();
      const runner = await running;
      expect(started).toEqual([1]);
      expect(runner).toMatchObject({ rejected: 3, processed: 0 });
      expect(await new Queue().counts()).toEqual({ ready: 3, delayed: 0, running: 0, dead: 0 });
    });
    const limited = new Worker({ concurrency: 1, prefetch: 5, messagesLimit: 3 });
    const ran: number[] = [];
    limited.actor(async function hold(n: number) {
      ran.push(n);
    });
    const runner = await app.magic(() => limited.run());
    expect(ran).toEqual([1, 2, 3]);
    expect(runner).toMatchObject({ processed: 3, rejected: 0 });
  });

  it("honours stop() called while run() is still starting", async () => {
    const { app } = memoryApp();
    const worker = new Worker({ handleSignals: [] });
    worker.actor(async function never() {});
    const runner = await app.magic(() => {
      const running = worker.run();
      worker.stop();
      return running;
    });
    expect(runner.processed).toBe(0);
  });
});

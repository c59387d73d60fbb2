/**
 * An async actor that ignores ctx.signal keeps running after its timeout. Until its body ends:
 * - its concurrency slot stays taken, so `concurrency` holds (the slot was freed at the timeout,
 *   and the next job ran beside the body that was still running);
 * - its settlement waits, with the lease kept, so a retry cannot start on another worker beside
 *   the body (the retry went out at the timeout);
 * - the metrics' in-flight gauge counts it (issue 24).
 */
import { expect, it } from "vitest";
import {
  Connection,
  InMemoryMessageBroker,
  Job,
  Queue,
  Repid,
  Worker,
  enqueueMany,
  silentLogger,
  type ActorContext,
  type Hooks,
} from "../../src/index.js";
import { prometheusMetrics } from "../../src/metrics.js";

/** Many turns of the event loop: whatever the timeout set free would run meanwhile. */
async function turns(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A body that records its abort and then ignores it until `release()`. */
function stubbornBody(order: string[]) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let aborted!: () => void;
  const abort = new Promise<void>((resolve) => (aborted = resolve));
  return {
    release,
    abort,
    async body(label: string, ctx: ActorContext): Promise<void> {
      ctx.signal.addEventListener("abort", () => {
        order.push(`${label} aborted ${(ctx.signal.reason as { code?: string }).code}`);
        aborted();
      });
      await released; // ignores ctx.signal
      order.push(`${label} body ended`);
    },
  };
}

it("a timed-out async body that still runs keeps its slot until it ends", async () => {
  const order: string[] = [];
  const stubborn = stubbornBody(order);
  const hooks: Hooks = {
    onEvent(event) {
      if (event.type === "dead-lettered") order.push(`dead ${event.error.code}`);
    },
  };
  const app = new Repid(
    new Connection(new InMemoryMessageBroker(), { logger: silentLogger, hooks: [hooks] }),
  );
  const worker = new Worker({
    concurrency: 1,
    prefetch: 1,
    messagesLimit: 2,
    logger: silentLogger,
    handleSignals: [],
  });
  worker.actor(
    { timeout: "50ms" },
    async function stubborn_actor(_args: unknown, ctx: ActorContext) {
      await stubborn.body("stubborn", ctx);
    },
  );
  worker.actor(async function next() {
    order.push("next started");
  });
  await app.magic(async () => {
    await new Queue().declare();
    await enqueueMany([new Job("stubborn_actor"), new Job("next")]);
    const running = worker.run();
    await stubborn.abort;
    await turns();
    order.push("released");
    stubborn.release();
    await running;
  });
  expect(order.slice(0, 3)).toEqual([
    "stubborn aborted JOB_TIMEOUT",
    "released",
    "stubborn body ended",
  ]);
  // The dead letter is settled once the body ended; "next" takes the freed slot meanwhile.
  expect(order.slice(3).sort()).toEqual(["dead JOB_TIMEOUT", "next started"]);
});

it("the retry of a timed-out attempt does not start on another worker while its body still runs", async () => {
  const order: string[] = [];
  const stubborn = stubbornBody(order);
  const app = new Repid(new Connection(new InMemoryMessageBroker(), { logger: silentLogger }));
  const make = (): Worker => {
    const worker = new Worker({
      concurrency: 1,
      messagesLimit: 1,
      logger: silentLogger,
      handleSignals: [],
    });
    worker.actor(
      { timeout: "50ms", retryPolicy: () => 0 },
      async function flaky(_args: unknown, ctx: ActorContext) {
        if (ctx.attempt === 1) return stubborn.body("attempt 1", ctx);
        order.push(`attempt ${ctx.attempt} started`);
      },
    );
    return worker;
  };
  await app.magic(async () => {
    await new Queue().declare();
    await new Job("flaky", { retries: 1 }).enqueue();
    const first = make().run();
    const second = make().run();
    await stubborn.abort;
    await turns();
    order.push("released");
    stubborn.release();
    const counts = await Promise.all([first, second]);
    expect(counts.map((c) => c.retried + c.succeeded).sort()).toEqual([1, 1]);
  });
  expect(order).toEqual([
    "attempt 1 aborted JOB_TIMEOUT",
    "released",
    "attempt 1 body ended",
    "attempt 2 started",
  ]);
});

it("the in-flight gauge counts a timed-out body until it ends", async () => {
  const order: string[] = [];
  const stubborn = stubbornBody(order);
  const metrics = prometheusMetrics();
  const app = new Repid(
    new Connection(new InMemoryMessageBroker(), { logger: silentLogger, hooks: [metrics.hooks] }),
  );
  const worker = new Worker({
    concurrency: 1,
    messagesLimit: 1,
    logger: silentLogger,
    handleSignals: [],
  });
  worker.actor({ timeout: "50ms" }, async function slow(_args: unknown, ctx: ActorContext) {
    await stubborn.body("slow", ctx);
  });
  const inFlight = async (): Promise<string | undefined> =>
    (await metrics.scrape()).match(/^repid_jobs_in_flight\{[^}]*actor="slow"[^}]*\} (\d+)$/m)?.[1];
  await app.magic(async () => {
    await new Queue().declare();
    await new Job("slow").enqueue();
    const running = worker.run();
    await stubborn.abort;
    await turns();
    expect(await inFlight()).toBe("1");
    stubborn.release();
    await running;
    expect(await inFlight()).toBe("0");
  });
});

it("a stop lets go of a timed-out body that never ends once the grace period is over", async () => {
  const order: string[] = [];
  const stubborn = stubbornBody(order);
  const hooks: Hooks = {
    onEvent(event) {
      if (event.type === "rejected" || event.type === "dead-lettered") order.push(event.type);
    },
  };
  const app = new Repid(
    new Connection(new InMemoryMessageBroker(), { logger: silentLogger, hooks: [hooks] }),
  );
  const worker = new Worker({
    concurrency: 1,
    gracefulShutdownTime: "100ms",
    logger: silentLogger,
    handleSignals: [],
  });
  worker.actor({ timeout: "50ms" }, async function endless(_args: unknown, ctx: ActorContext) {
    await stubborn.body("endless", ctx); // never released
  });
  await app.magic(async () => {
    await new Queue().declare();
    await new Job("endless").enqueue();
    const running = worker.run();
    await stubborn.abort;
    worker.stop();
    const counts = await running;
    // Forced at the end of the grace period: the attempt settles as its timeout decided (no
    // retries left: dead-lettered) and the run ends, though the body never does.
    expect(counts).toMatchObject({ deadLettered: 1, rejected: 0 });
    expect((await new Queue().counts()).dead).toBe(1);
  });
  expect(order).toEqual(["endless aborted JOB_TIMEOUT", "dead-lettered"]);
});

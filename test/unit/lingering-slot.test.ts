/**
 * An async actor that ignores ctx.signal keeps running after its timeout: its concurrency slot
 * stays taken until its body ends, so `concurrency` holds (issue 24: the slot was freed at the
 * timeout, and the next job ran beside the body that was still running).
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
  type Hooks,
} from "../../src/index.js";

it("a timed-out async body that still runs keeps its slot until it ends", async () => {
  const order: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let deadLettered!: () => void;
  const timedOut = new Promise<void>((resolve) => (deadLettered = resolve));
  const hooks: Hooks = {
    onEvent(event) {
      if (event.type === "dead-lettered" && event.job.actor === "stubborn") {
        order.push(`dead ${event.error.code}`);
        deadLettered();
      }
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
  worker.actor({ timeout: "50ms" }, async function stubborn() {
    await released; // ignores ctx.signal
    order.push("stubborn body ended");
  });
  worker.actor(async function next() {
    order.push("next started");
  });
  await app.magic(async () => {
    await new Queue().declare();
    await enqueueMany([new Job("stubborn"), new Job("next")]);
    const running = worker.run();
    await timedOut;
    // Many turns of the event loop: with the slot freed at the timeout, "next" would start now.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    order.push("released");
    release();
    await running;
  });
  expect(order).toEqual(["dead JOB_TIMEOUT", "released", "stubborn body ended", "next started"]);
});

/**
 * `prefetch: "auto"` (issue 28): a worker of fast jobs receives larger batches, a worker of slow
 * jobs keeps 10 ahead; a number is used as given.
 */
import { describe, expect, it } from "vitest";
import type { MessageBroker, ReceiveOptions, Settlement } from "../../src/brokers/broker.js";
import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { Connection } from "../../src/connection/connection.js";
import { Job } from "../../src/producer/job.js";
import { Queue } from "../../src/producer/queue.js";
import { Prefetch } from "../../src/worker/run/prefetch.js";
import { Worker } from "../../src/worker/worker.js";

describe("Prefetch", () => {
  it("uses a number as given, whatever the pace", () => {
    const p = new Prefetch(3, 10);
    for (let i = 0; i < 1_000; i++) p.ran(0);
    expect(p.size()).toBe(3);
  });

  it("auto: 10 ahead before any job ran, then 5 ms of its slots' work, at most 16 x concurrency", () => {
    const p = new Prefetch("auto", 10);
    expect(p.size()).toBe(10);
    // Jobs of 1 ms at concurrency 10: 50 ahead.
    p.ran(1);
    expect(p.size()).toBe(50);
    // Jobs of no time at all: capped at 160 (16 x 10).
    for (let i = 0; i < 100; i++) p.ran(0);
    expect(p.size()).toBe(160);
    // Jobs of 20 ms: back to the floor, the average following them within a few dozen jobs.
    for (let i = 0; i < 40; i++) p.ran(20);
    expect(p.size()).toBe(10);
  });

  it("auto never holds more than 1,000 ahead, nor more than 16 at concurrency 1", () => {
    const big = new Prefetch("auto", 5_000);
    const one = new Prefetch("auto", 1);
    big.ran(0);
    one.ran(0);
    expect(big.size()).toBe(1_000);
    expect(one.size()).toBe(16);
  });

  it("refuses what is neither a non-negative integer nor auto", () => {
    expect(() => new Worker({ prefetch: -1 })).toThrow(/prefetch.*non-negative integer or "auto"/);
    expect(() => new Worker({ prefetch: "lots" as never })).toThrow(/"lots"/);
  });
});

/** The in-memory broker, recording the most messages held (received, not yet settled) at once. */
function recording(): { broker: MessageBroker; peak: () => number } {
  const broker = new InMemoryMessageBroker();
  let held = 0;
  let peak = 0;
  const receive = broker.receive.bind(broker);
  const settle = broker.settle.bind(broker);
  broker.receive = async (queues: readonly string[], options: ReceiveOptions) => {
    const got = await receive(queues, options);
    held += got.length;
    peak = Math.max(peak, held);
    return got;
  };
  broker.settle = async (settlements: readonly Settlement[]) => {
    held -= settlements.length;
    return settle(settlements);
  };
  return { broker, peak: () => peak };
}

async function run(jobMs: number, jobs: number, prefetch?: number): Promise<number> {
  const { broker, peak } = recording();
  const connection = new Connection(broker);
  await connection.connect();
  const queue = new Queue("pace", { connection });
  await queue.declare();
  for (let i = 0; i < jobs; i += 500) {
    const batch = Array.from(
      { length: Math.min(500, jobs - i) },
      () => new Job("work", { queue, connection }),
    );
    await Promise.all(batch.map((j) => j.enqueue()));
  }
  const worker = new Worker({
    connection,
    concurrency: 4,
    messagesLimit: jobs,
    handleSignals: [],
    ...(prefetch === undefined ? {} : { prefetch }),
  });
  worker.actor({ queue: "pace", name: "work" }, async function work() {
    if (jobMs > 0) await new Promise((resolve) => setTimeout(resolve, jobMs));
  });
  await worker.run();
  await connection.disconnect();
  return peak();
}

describe("a worker with prefetch auto", () => {
  it("holds more than concurrency + 10 once its jobs take no time, at most 16 x concurrency more", async () => {
    const peak = await run(0, 20_000);
    expect(peak).toBeGreaterThan(4 + 10);
    expect(peak).toBeLessThanOrEqual(4 + 64);
  });

  it("holds at most concurrency + 10 when its jobs take 20 ms, as a fixed prefetch of 10 does", async () => {
    expect(await run(20, 40)).toBeLessThanOrEqual(4 + 10);
    expect(await run(0, 20_000, 10)).toBeLessThanOrEqual(4 + 10);
  });
});

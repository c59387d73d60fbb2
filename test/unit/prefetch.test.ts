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
    let now = 0;
    const p = new Prefetch(3, 10, () => now);
    for (let i = 0; i < 1_000; i++) p.started();
    now = 50;
    expect(p.size()).toBe(3);
  });

  it("auto: 10 ahead until the pace says more, then 5 ms of starts, at most 4 x concurrency", () => {
    let now = 0;
    const p = new Prefetch("auto", 10, () => now);
    expect(p.size()).toBe(10);
    // 4 starts per ms over a 20 ms window: 20 ahead.
    for (let i = 0; i < 80; i++) p.started();
    now = 20;
    expect(p.size()).toBe(20);
    // 100 per ms: capped at 40 (4 x 10).
    for (let i = 0; i < 2_000; i++) p.started();
    now = 40;
    expect(p.size()).toBe(40);
    // One start per 10 ms: back to the floor.
    p.started();
    p.started();
    now = 60;
    expect(p.size()).toBe(10);
  });

  it("auto never holds more than 1,000 ahead, nor fewer than 10 at concurrency 1", () => {
    let now = 0;
    const big = new Prefetch("auto", 5_000, () => now);
    const one = new Prefetch("auto", 1, () => now);
    for (let i = 0; i < 1_000_000; i++) {
      big.started();
      one.started();
    }
    now = 20;
    expect(big.size()).toBe(1_000);
    expect(one.size()).toBe(10);
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
  it("holds more than concurrency + 10 once its jobs start faster than 2 per ms, at most 4 x concurrency more", async () => {
    const peak = await run(0, 20_000);
    expect(peak).toBeGreaterThan(4 + 10);
    expect(peak).toBeLessThanOrEqual(4 + 16);
  });

  it("holds at most concurrency + 10 when its jobs take 20 ms, as a fixed prefetch of 10 does", async () => {
    expect(await run(20, 40)).toBeLessThanOrEqual(4 + 10);
    expect(await run(0, 20_000, 10)).toBeLessThanOrEqual(4 + 10);
  });
});

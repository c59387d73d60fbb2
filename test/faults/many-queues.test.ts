/**
 * Scale: a consumer on 10,000 queues. A message enqueued to one of them while the consumer
 * blocks is picked up with one script call (on the queue that woke it), not one per queue; a full
 * round over all queues is one pipeline of peeks (1,000 queues each) plus the calls it plans.
 * Prints the pickup latency; asserts on script calls counted by Redis (INFO commandstats).
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jobs, newPrefix, producer } from "./harness.js";
import { startRedis, until, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

async function scriptCalls(admin: Redis): Promise<number> {
  const stats = await admin.info("commandstats");
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

it(
  "picks up a message among 10,000 queues with a handful of script calls",
  { timeout: 120_000 },
  async () => {
    const admin = redis.admin();
    const prefix = newPrefix();
    const consumer = await producer(redis.url, prefix);
    const p = await producer(redis.url, prefix);
    const queues = Array.from({ length: 10_000 }, (_, i) => `q${i}`);
    for (let i = 0; i < queues.length; i += 500)
      await Promise.all(queues.slice(i, i + 500).map((q) => p.declareQueue(q)));

    // A full round: the message sits in the last queue before the receive starts.
    await p.enqueue(jobs("q9999", "record", 1));
    await admin.config("RESETSTAT");
    let t0 = performance.now();
    const [first] = await consumer.receive(queues, { max: 10, leaseMs: 30_000 });
    const fullRoundMs = performance.now() - t0;
    const fullRoundCalls = await scriptCalls(admin);
    expect(first!.message.queue).toBe("q9999");
    await consumer.settle([{ kind: "ack", delivery: first! }]);

    // Pickup after a wake-up: the consumer blocks on every queue's notify list.
    const pending = consumer.receive(queues, { max: 10, leaseMs: 30_000 });
    await until(
      async () => /blocked_clients:[1-9]/.test(await admin.info("clients")),
      30_000,
      "blocked",
    );
    await admin.config("RESETSTAT");
    t0 = performance.now();
    await p.enqueue(jobs("q5000", "record", 1));
    const [picked] = await pending;
    const pickupMs = performance.now() - t0;
    const pickupCalls = (await scriptCalls(admin)) - 1; // minus the enqueue itself
    expect(picked!.message.queue).toBe("q5000");
    await consumer.settle([{ kind: "ack", delivery: picked! }]);
    await consumer.disconnect();
    await p.disconnect();
    console.log("fault many-queues:", {
      queues: queues.length,
      fullRoundMs: Math.round(fullRoundMs),
      fullRoundScriptCalls: fullRoundCalls,
      pickupMs: Math.round(pickupMs * 10) / 10,
      pickupScriptCalls: pickupCalls,
    });
    // One peek per 1,000 queues (one pipeline), then one receive call: not one call per queue.
    expect(fullRoundCalls).toBeLessThanOrEqual(queues.length / 1000 + 1);
    expect(pickupCalls).toBeLessThanOrEqual(2);
  },
);

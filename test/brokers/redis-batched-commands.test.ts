/**
 * Receive and settle calls on a queue without limits write their leases, deadlines and
 * deletions with one Redis command for the whole call, not one per message (issue 28: each
 * command a script sends costs Redis CPU of its own, and at concurrency 10 Redis was the
 * bottleneck). Counted with INFO commandstats on a redis-server started for this file alone.
 * Fencing keeps its per-message meaning inside one call: a second settlement of the same
 * delivery in a batch is refused, as it was when each settlement asked for its lease on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Delivery, OutgoingMessage } from "../../src/brokers/broker.js";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { startRedis, until, type ThrowawayRedis } from "../faults/redis-server.js";
import { message } from "./contract.js";

let redis: ThrowawayRedis;
let broker: RedisMessageBroker;

beforeAll(async () => {
  redis = await startRedis();
  broker = new RedisMessageBroker(redis.url, { prefix: "batched" });
  await broker.connect();
});

afterAll(async () => {
  await broker?.disconnect();
  await redis?.stop();
});

const job = (queue: string, id: string): OutgoingMessage =>
  message({ id, queue, topic: "noop", payload: JSON.stringify({ id }), timeoutMs: 60_000 });

/** Calls of each Redis command since the last reset, scripts' own commands included. */
async function commandCalls(): Promise<Map<string, number>> {
  const info = await redis.admin().info("commandstats");
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

async function fill(queue: string, count: number): Promise<void> {
  await broker.declareQueue(queue);
  await broker.enqueue(Array.from({ length: count }, (_, i) => job(queue, `${queue}-${i}`)));
}

describe("batched commands in receive and settle", () => {
  it("leases 30 messages with one HMGET, one HSET and one ZADD, and acks them with one of each deletion", async () => {
    await fill("thirty", 30);
    await redis.admin().config("RESETSTAT");
    const deliveries = await broker.receive(["thirty"], { max: 30, leaseMs: 60_000 });
    expect(deliveries.map((d) => d.message.id)).toEqual(
      Array.from({ length: 30 }, (_, i) => `thirty-${i}`),
    );
    const received = await commandCalls();
    expect(received.get("evalsha")).toBe(1);
    expect(received.get("hset")).toBeLessThanOrEqual(2); // the leases, and the queue clock
    expect(received.get("zadd")).toBe(1); // the deadlines
    expect(received.get("hmget")).toBeLessThanOrEqual(2); // the bodies, and the clock's fields
    expect(received.get("hget") ?? 0).toBeLessThan(10);

    await redis.admin().config("RESETSTAT");
    const applied = await broker.settle(deliveries.map((delivery) => ({ kind: "ack", delivery })));
    expect(applied).toEqual(deliveries.map(() => true));
    const settled = await commandCalls();
    expect(settled.get("evalsha")).toBe(1);
    expect(settled.get("hdel")).toBe(2); // leases, bodies
    expect(settled.get("zrem")).toBe(1); // deadlines
    expect(settled.get("hget") ?? 0).toBeLessThan(10);
    expect(await broker.counts("thirty")).toMatchObject({ ready: 0, running: 0, dead: 0 });
  });

  it("takes the message that wakes a blocked receive without housekeeping reads", async () => {
    await broker.declareQueue("woken");
    const waiting = broker.receive(["woken"], { max: 5, leaseMs: 60_000 });
    // Blocked in BLPOP, its receive call queued behind it on the same connection.
    await until(async () => /blocked_clients:1\r?\n/.test(await redis.admin().info("clients")));
    await redis.admin().config("RESETSTAT");
    await broker.enqueue([job("woken", "w1")]);
    expect((await waiting).map((d) => d.message.id)).toEqual(["w1"]);
    const calls = await commandCalls();
    // enqueue-one.lua and the queued receive.lua; no look at delayed, expired or unheard-of leases.
    expect(calls.get("evalsha")).toBe(2);
    expect(calls.get("zrangebyscore") ?? 0).toBe(0);
    // The clock's fields (queue time, limits, pause) in one HMGET, the body in another.
    expect(calls.get("hmget")).toBe(2);
  });

  it("refuses a second settlement of the same delivery in one batch, whatever the first was", async () => {
    await fill("twice", 3);
    const [a, b, c] = (await broker.receive(["twice"], { max: 3, leaseMs: 60_000 })) as [
      Delivery,
      Delivery,
      Delivery,
    ];
    const applied = await broker.settle([
      { kind: "ack", delivery: a },
      { kind: "ack", delivery: a },
      { kind: "requeue", delivery: b, attempt: 2 },
      { kind: "ack", delivery: b },
      { kind: "dead", delivery: c, error: { name: "Error", message: "boom" } },
      { kind: "requeue", delivery: c, attempt: 2 },
    ]);
    expect(applied).toEqual([true, false, true, false, true, false]);
    // a is gone, b waits again (its requeue stood), c is a dead letter.
    const again = await broker.receive(["twice"], { max: 10, leaseMs: 60_000 });
    expect(again.map((d) => [d.message.id, d.message.attempt])).toEqual([["twice-1", 2]]);
    expect(await broker.counts("twice")).toMatchObject({ ready: 0, running: 1, dead: 1 });
  });

  it("dead-letters an unreadable body met in a batch and leases the others, their tokens in order", async () => {
    await fill("mixed", 5);
    await redis.admin().hset("batched:{mixed}:msg", "mixed-2", "not a stored message");
    const deliveries = await broker.receive(["mixed"], { max: 5, leaseMs: 60_000 });
    expect(deliveries.map((d) => d.message.id)).toEqual([
      "mixed-0",
      "mixed-1",
      "mixed-3",
      "mixed-4",
    ]);
    // Each token is the call's prefix and the delivery's 1-based place among those leased.
    const places = deliveries.map((d) => Number(/\.(\d+)$/.exec(d.token)?.[1]));
    expect(places).toEqual([1, 2, 3, 4]);
    const applied = await broker.settle(deliveries.map((delivery) => ({ kind: "ack", delivery })));
    expect(applied).toEqual([true, true, true, true]);
    const dead = await broker.deadLetters!("mixed");
    expect(dead.map((d) => [d.message.id, d.error.code])).toEqual([["mixed-2", "MALFORMED"]]);
  });
});

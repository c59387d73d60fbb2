/**
 * Redis broker: consumer liveness from the keep-alive thread (a blocked event loop keeps its
 * leases, a stopped keep-alive ends them at once), per-queue enqueue coalescing, and result
 * waiters all served by one read.
 */
import type { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Delivery } from "../../src/brokers/broker.js";
import type { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { QueueNotDeclaredError } from "../../src/errors.js";
import { message } from "./contract.js";
import { adminClient, describeRedis, testBroker, uniquePrefix } from "./redis-env.js";

const LEASE = 60_000;

describeRedis("redis broker liveness and coalescing", () => {
  let admin: Redis;
  let prefix: string;
  let broker: RedisMessageBroker;
  const cleanups: (() => Promise<void>)[] = [];

  async function open(): Promise<RedisMessageBroker> {
    const made = testBroker({ prefix });
    cleanups.push(made.cleanup);
    await made.broker.connect();
    return made.broker;
  }

  async function take(b: RedisMessageBroker, max: number): Promise<Delivery[]> {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 300);
    try {
      return await b.receive(["default"], { max, leaseMs: LEASE, signal: ac.signal });
    } finally {
      clearTimeout(t);
    }
  }

  beforeEach(async () => {
    admin = adminClient();
    prefix = uniquePrefix();
    broker = await open();
    await broker.declareQueue("default");
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    admin.disconnect();
  });

  it("serves every waiter of a result from the one read that finds it", async () => {
    const key = `${prefix}:{default}:result:two`;
    await admin.ping();
    const waiters = [
      broker.waitForResult("two", { timeoutMs: 5000, queue: "default" }),
      broker.waitForResult("two", { timeoutMs: 5000, queue: "default" }),
    ];
    // Stored without publication while the subscription is still being set up: only the read
    // that follows the confirmed subscription can find it, and it must reach both waiters.
    await admin.set(key, JSON.stringify({ ok: true, value: "2", finishedAt: 1 }));
    expect(await Promise.all(waiters)).toEqual([
      { ok: true, value: "2", finishedAt: 1 },
      { ok: true, value: "2", finishedAt: 1 },
    ]);
  });

  it("coalesces enqueues per queue: an undeclared queue fails only its own callers", async () => {
    const [good, bad] = await Promise.allSettled([
      broker.enqueue([message({ id: "fine" })]),
      broker.enqueue([message({ id: "lost", queue: "undeclared" })]),
    ]);
    expect(good).toEqual({ status: "fulfilled", value: [{ id: "fine", created: true }] });
    expect(bad.status).toBe("rejected");
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(QueueNotDeclaredError);
  });

  it("keeps a consumer's heartbeat from a thread while its event loop is blocked", async () => {
    await broker.enqueue([message({ id: "long" })]);
    const alive = broker.keepAlive("busy", ["default"], 600);
    try {
      const [held] = await broker.receive(["default"], {
        max: 1,
        leaseMs: LEASE,
        consumer: "busy",
      });
      // Block this thread's event loop for well past the heartbeat's time to live.
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        /* a user's synchronous loop */
      }
      const other = await open();
      expect(await take(other, 1)).toEqual([]);
      expect(await broker.settle([{ kind: "ack", delivery: held! }])).toEqual([true]);
    } finally {
      await alive.stop();
    }
  });

  it("ends a consumer's leases as soon as its keep-alive stops", async () => {
    await broker.enqueue([message({ id: "orphan" })]);
    const alive = broker.keepAlive("leaving", ["default"], 60_000);
    await broker.receive(["default"], { max: 1, leaseMs: LEASE, consumer: "leaving" });
    await alive.stop();
    const other = await open();
    const [again] = await other.receive(["default"], { max: 1, leaseMs: LEASE });
    expect(again!.message.id).toBe("orphan");
    expect(again!.message.stalls).toBe(1);
  });
});

/**
 * Redis broker: consumer liveness from the keep-alive thread (a blocked event loop keeps its
 * leases, a stopped keep-alive ends them at once), per-queue enqueue coalescing, and result
 * waiters all served by one read.
 */
import { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Delivery } from "../../src/brokers/broker.js";
import type { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { keepAliveThreadsStarted } from "../../src/brokers/redis/keep-alive.js";
import { RedisMessageBroker as Broker } from "../../src/brokers/redis/redis-broker.js";
import { QueueNotDeclaredError } from "../../src/core/errors.js";
import { message } from "./contract.js";
import {
  REDIS_URL,
  adminClient,
  deletePrefix,
  describeRedis,
  testBroker,
  uniquePrefix,
} from "./redis-env.js";

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

  it("keeps the heartbeats of consumers of several brokers from one thread of the process", async () => {
    // A second broker on another database: the thread's connection must select it.
    const url = new URL(REDIS_URL);
    url.pathname = "/3";
    const other = new Broker(url.toString(), { prefix });
    const db3 = new Redis(url.toString());
    cleanups.push(async () => {
      await deletePrefix(db3, prefix);
      db3.disconnect();
      await other.disconnect();
    });
    await other.connect();
    await other.declareQueue("default");
    await broker.enqueue([message({ id: "a" })]);
    await other.enqueue([message({ id: "b" })]);
    const before = keepAliveThreadsStarted();
    const alive = [
      broker.keepAlive("one", ["default"], 600),
      broker.keepAlive("two", ["default"], 600),
      other.keepAlive("three", ["default"], 600),
    ];
    try {
      const [a] = await broker.receive(["default"], { max: 1, leaseMs: LEASE, consumer: "one" });
      const [b] = await other.receive(["default"], { max: 1, leaseMs: LEASE, consumer: "three" });
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        /* a user's synchronous loop, three times the heartbeats' time to live */
      }
      // Every record was refreshed by the thread meanwhile: nobody's leases were recovered.
      const scores = await Promise.all([
        admin.zscore(`${prefix}:{default}:consumers`, "one"),
        admin.zscore(`${prefix}:{default}:consumers`, "two"),
        db3.zscore(`${prefix}:{default}:consumers`, "three"),
      ]);
      expect(scores.every((x) => x !== null)).toBe(true);
      expect(await take(await open(), 1)).toEqual([]);
      expect(await broker.settle([{ kind: "ack", delivery: a! }])).toEqual([true]);
      expect(await other.settle([{ kind: "ack", delivery: b! }])).toEqual([true]);
    } finally {
      for (const k of alive) await k.stop();
    }
    // One thread for the process, whatever the number of consumers and brokers (the first
    // keep-alive of the file may have started it already).
    expect(keepAliveThreadsStarted()).toBeGreaterThanOrEqual(1);
    expect(keepAliveThreadsStarted() - before).toBeLessThanOrEqual(1);
    const again = broker.keepAlive("four", ["default"], 600);
    await again.stop();
    expect(keepAliveThreadsStarted() - before).toBeLessThanOrEqual(1);
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

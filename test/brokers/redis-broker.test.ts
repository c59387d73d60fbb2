/**
 * Redis-specific behaviour of RedisMessageBroker, beyond the shared contract suite: fencing and
 * claims across brokers, what is left in Redis, garbage in the keys, results over pub/sub,
 * killed connections, lost scripts and unreachable servers.
 */
import type { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Delivery, MessageBroker, OutgoingMessage } from "../../src/brokers/broker.js";
import {
  RedisMessageBroker,
  type RedisBrokerOptions,
} from "../../src/brokers/redis/redis-broker.js";
import { BrokerError, QueueNotDeclaredError } from "../../src/core/errors.js";
import { message, waitFor } from "./contract.js";
import {
  adminClient,
  describeRedis,
  keysWithPrefix,
  REDIS_URL,
  testBroker,
  uniquePrefix,
} from "./redis-env.js";

const LEASE = 60_000;

describeRedis("redis broker specifics", () => {
  let admin: Redis;
  let prefix: string;
  let broker: RedisMessageBroker;
  const cleanups: (() => Promise<void>)[] = [];

  async function open(options: RedisBrokerOptions = {}): Promise<RedisMessageBroker> {
    const made = testBroker({ prefix, ...options });
    cleanups.push(made.cleanup);
    await made.broker.connect();
    return made.broker;
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

  async function take(
    b: MessageBroker,
    max = 100,
    leaseMs = LEASE,
    queues = ["default"],
  ): Promise<Delivery[]> {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 300);
    try {
      return await b.receive(queues, { max, leaseMs, signal: ac.signal });
    } finally {
      clearTimeout(t);
    }
  }

  const key = (suffix: string): string => `${prefix}:{default}:${suffix}`;

  it("keeps all keys of a queue under one hash tag and the prefix", async () => {
    await broker.enqueue([message(), message({ executeAt: Date.now() + 60_000 })]);
    await take(broker, 1);
    const keys = await keysWithPrefix(admin, prefix);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k.startsWith(`${prefix}:{default}:`)).toBe(true);
  });

  it("fences a holder whose lease expired and was re-delivered by another broker", async () => {
    const other = await open();
    await broker.enqueue([message({ id: "fenced" })]);
    const [stale] = await take(broker, 1, 100);
    const [fresh] = await other.receive(["default"], { max: 1, leaseMs: LEASE });
    expect(fresh!.message.id).toBe("fenced");
    expect(fresh!.message.stalls).toBe(1);
    expect(await broker.renew([stale!], LEASE)).toEqual([false]);
    expect(
      await broker.settle([
        { kind: "dead", delivery: stale!, error: { name: "E", message: "late" } },
        { kind: "requeue", delivery: stale!, attempt: 2 },
        {
          kind: "ack",
          delivery: stale!,
          result: { stored: { ok: true, value: "1", finishedAt: 1 }, ttlMs: 60_000 },
        },
      ]),
    ).toEqual([false, false, false]);
    expect(await broker.readResult("fenced")).toBeUndefined();
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 1, dead: 0 });
    expect(await other.settle([{ kind: "ack", delivery: fresh! }])).toEqual([true]);
  });

  it("hands each of 2,000 messages to exactly one of 4 brokers receiving concurrently", async () => {
    const n = 2000;
    await broker.enqueue(Array.from({ length: n }, () => message()));
    const brokers = [broker, await open(), await open(), await open()];
    const seen: string[] = [];
    await Promise.all(
      brokers.map(async (b) => {
        for (;;) {
          const got = await take(b, 50);
          if (got.length === 0) return;
          for (const d of got) seen.push(d.message.id);
          expect(
            await b.settle(got.map((d) => ({ kind: "ack" as const, delivery: d }))),
          ).not.toContain(false);
        }
      }),
    );
    expect(seen).toHaveLength(n);
    expect(new Set(seen).size).toBe(n);
  });

  it("returns a rejected or recovered message to its original place within its priority", async () => {
    const msgs = Array.from({ length: 5 }, (_, i) => message({ topic: `m${i}` }));
    await broker.enqueue(msgs);
    const [m0, m1] = await take(broker, 2);
    await broker.enqueue([message({ topic: "late" }), message({ topic: "urgent", priority: 0 })]);
    await broker.settle([{ kind: "requeue", delivery: m1!, attempt: 1 }]);
    await broker.settle([{ kind: "requeue", delivery: m0!, attempt: 2 }]);
    const got = await take(broker, 10);
    expect(got.map((d) => d.message.topic)).toEqual([
      "urgent",
      "m0",
      "m1",
      "m2",
      "m3",
      "m4",
      "late",
    ]);
    expect(got[1]!.message.attempt).toBe(2);
  });

  it("wakes a blocked receiver when a delayed message enqueued during its block falls due", async () => {
    const patient = await open({ maxBlockMs: 60_000 });
    const pending = patient.receive(["default"], { max: 1, leaseMs: LEASE });
    await waitFor(async () => (await blockedClients(admin, prefix)) > 0);
    await broker.enqueue([message({ id: "soon", executeAt: Date.now() + 200 })]);
    const [d] = await pending;
    expect(d!.message.id).toBe("soon");
  });

  it("caps the dead letters per queue, dropping the oldest", async () => {
    const capped = await open({ maxDeadLetters: 3 });
    await capped.enqueue(Array.from({ length: 5 }, (_, i) => message({ topic: `d${i}` })));
    const got = await take(capped, 5);
    await capped.settle(
      got.map((d) => ({
        kind: "dead" as const,
        delivery: d,
        error: { name: "E", message: d.message.topic },
      })),
    );
    const dead = await capped.deadLetters("default");
    expect(dead.map((x) => x.message.topic)).toEqual(["d2", "d3", "d4"]);
    expect(dead.map((x) => x.error.message)).toEqual(["d2", "d3", "d4"]);
    expect((await capped.counts("default")).dead).toBe(3);
  });

  it("dead-letters garbage written straight into the queue's keys (MALFORMED, or EVICTED when the body is missing) and keeps delivering", async () => {
    await admin.hset(key("msg"), "junk-header", "this is not a message");
    await admin.zadd(key("ready"), 0, "junk-header");
    await admin.hset(key("msg"), "junk-body", "1|1|1|0||{not json\npayload");
    await admin.zadd(key("ready"), 1, "junk-body");
    await admin.zadd(key("ready"), 2, "no-such-message");
    await admin.hset(key("msg"), "junk-delayed", "garbage");
    await admin.zadd(key("delayed"), 1, "junk-delayed");
    await admin.hset(key("msg"), "junk-running", "garbage");
    await admin.zadd(key("running"), 1, "junk-running");
    const good = message({ topic: "good" });
    await broker.enqueue([good]);
    const got: Delivery[] = [];
    await waitFor(async () => {
      got.push(...(await take(broker, 10)));
      return got.length > 0;
    });
    expect(got.map((d) => d.message.id)).toEqual([good.id]);
    const dead = await broker.deadLetters("default");
    expect(dead.map((x) => x.message.id).sort()).toEqual(
      ["junk-body", "junk-delayed", "junk-header", "junk-running", "no-such-message"].sort(),
    );
    for (const x of dead)
      expect(x.error.code).toBe(x.message.id === "no-such-message" ? "EVICTED" : "MALFORMED");
    expect(dead.find((x) => x.message.id === "no-such-message")!.error.message).toMatch(
      /message body missing: evicted\?/,
    );
    expect(dead.find((x) => x.message.id === "junk-header")!.message.payload).toBe(
      "this is not a message",
    );
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 1, dead: 5 });
  });

  it("leaves no key behind for acked messages, only results with a time to live", async () => {
    await broker.enqueue(
      Array.from({ length: 100 }, (_, i) =>
        message({ executeAt: i % 10 === 0 ? Date.now() + 100 : undefined }),
      ),
    );
    let acked = 0;
    await waitFor(async () => {
      const got = await take(broker, 100);
      await broker.settle(
        got.map((d, i) => ({
          kind: "ack" as const,
          delivery: d,
          ...(i === 0 && acked === 0
            ? {
                result: { stored: { ok: true as const, value: "x", finishedAt: 1 }, ttlMs: 60_000 },
              }
            : {}),
        })),
      );
      acked += got.length;
      return acked === 100;
    });
    const results = (await keysWithPrefix(admin, prefix)).filter((k) =>
      k.startsWith(key("result:")),
    );
    expect(results).toHaveLength(1);
    const ttl = await admin.pttl(results[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Left: the queue's own keys, and memos of recent calls (they expire on their own).
    const left = (await keysWithPrefix(admin, prefix)).filter((k) => !results.includes(k));
    const memos = left.filter((k) => k.startsWith(key("memo:")));
    for (const m of memos) expect(await admin.pttl(m)).toBeGreaterThan(0);
    expect(left.filter((k) => !memos.includes(k)).sort()).toEqual(
      [key("declared"), key("seq"), key("clock")].sort(),
    );
  });

  it("does not read results by polling: a waiter learns of a result only from its publication", async () => {
    const channel = key("result:quiet");
    const value = JSON.stringify({ ok: true, value: "42", finishedAt: 1 });
    const waiting = broker.waitForResult("quiet", { timeoutMs: 400, queue: "default" });
    // Subscribed, and the one read that follows the subscription is done:
    await waitFor(async () => (await subscribers(admin, channel)) === 1);
    await waitFor(async () =>
      (await clientsOf(admin, prefix)).some((c) => c.name.endsWith(":command") && c.cmd === "get"),
    );
    await admin.set(channel, value);
    expect(await waiting).toBeUndefined();
    await waitFor(async () => (await subscribers(admin, channel)) === 0);

    await admin.del(channel);
    const woken = broker.waitForResult("quiet", { timeoutMs: 10_000, queue: "default" });
    await waitFor(async () => (await subscribers(admin, channel)) === 1);
    await admin.publish(channel, value);
    expect(await woken).toEqual({ ok: true, value: "42", finishedAt: 1 });
    await waitFor(async () => (await subscribers(admin, channel)) === 0);
  });

  it("answers a result wait at once when the result was stored before it", async () => {
    await broker.enqueue([message({ id: "early" })]);
    const [d] = await take(broker, 1);
    const stored = { ok: true as const, value: '"done"', finishedAt: 5 };
    await broker.settle([{ kind: "ack", delivery: d!, result: { stored, ttlMs: 60_000 } }]);
    const other = await open();
    expect(await other.waitForResult("early", { timeoutMs: 10_000 })).toEqual(stored);
    const ac = new AbortController();
    ac.abort();
    expect(await other.waitForResult("early", { timeoutMs: 10_000, signal: ac.signal })).toEqual(
      stored,
    );
  });

  it("recovers when its connections are killed (CLIENT KILL) while a receive is blocked", async () => {
    const pending = broker.receive(["default"], { max: 10, leaseMs: LEASE });
    await waitFor(async () => (await blockedClients(admin, prefix)) > 0);
    expect(await killClients(admin, prefix)).toBeGreaterThan(0);
    const producer = await open({ prefix });
    await producer.enqueue([message({ id: "after-kill" })]);
    const got = await pending;
    expect(got.map((d) => d.message.id)).toEqual(["after-kill"]);
    expect(await broker.settle([{ kind: "ack", delivery: got[0]! }])).toEqual([true]);
  });

  it("loses no message when its connections are killed again and again mid-run", async () => {
    const n = 500;
    const mine = prefix;
    await broker.enqueue(Array.from({ length: n }, (_, i) => message({ id: `k${i}` })));
    const done = new Set<string>();
    let kills = 0;
    const killer = (async () => {
      for (; kills < 8; kills++) {
        await waitFor(async () => (await clientsOf(admin, mine)).length > 0);
        await killClients(admin, mine);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await waitFor(async () => {
      try {
        const got = await take(broker, 20, 1000);
        const flags = await broker.settle(got.map((d) => ({ kind: "ack" as const, delivery: d })));
        got.forEach((d, i) => flags[i] && done.add(d.message.id));
      } catch (error) {
        // A killed connection may fail a call; the worker would log and go on, so do we.
        expect(error).toBeInstanceOf(BrokerError);
      }
      return done.size === n;
    }, 25_000);
    await killer;
    expect(kills).toBe(8);
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
  });

  it("reloads its scripts after SCRIPT FLUSH (as after a Redis restart)", async () => {
    await admin.script("FLUSH");
    await broker.enqueue([message({ id: "a" }), message({ id: "b" })]);
    await admin.script("FLUSH");
    const got = await take(broker, 2);
    await admin.script("FLUSH");
    expect(await broker.settle(got.map((d) => ({ kind: "ack" as const, delivery: d })))).toEqual([
      true,
      true,
    ]);
  });

  it("enqueues batches larger than one script call, outcomes in input order", async () => {
    await broker.declareQueue("other");
    const batch: OutgoingMessage[] = Array.from({ length: 2600 }, (_, i) =>
      message({ id: `b${i % 2300}`, queue: i % 3 === 0 ? "other" : "default" }),
    );
    const outcomes = await broker.enqueue(batch);
    expect(outcomes.map((o) => o.id)).toEqual(batch.map((m) => m.id));
    const created = outcomes.filter((o) => o.created).length;
    const counts = [await broker.counts("default"), await broker.counts("other")];
    expect(counts[0]!.ready + counts[1]!.ready).toBe(created);
    expect(created).toBeLessThan(2600);
  });

  it("reads the database index from the URL and keeps queues apart by prefix", async () => {
    const inDb3 = new RedisMessageBroker(`${REDIS_URL.replace(/\/\d*$/, "")}/3`, { prefix });
    cleanups.push(async () => {
      await inDb3.disconnect();
      const db3 = adminClient();
      await db3.select(3);
      await db3.del(`${prefix}:{default}:declared`);
      db3.disconnect();
    });
    await inDb3.connect();
    expect(await inDb3.queueExists("default")).toBe(false);
    await inDb3.declareQueue("default");
    const elsewhere = await open({ prefix: uniquePrefix() });
    expect(await elsewhere.queueExists("default")).toBe(false);
  });

  it("fails enqueue with BrokerError, never success, when Redis cannot be reached", async () => {
    const nowhere = new RedisMessageBroker(
      { host: "127.0.0.1", port: 1, maxRetriesPerRequest: 1, retryStrategy: () => 50 },
      { prefix },
    );
    try {
      await expect(nowhere.connect()).rejects.toBeInstanceOf(BrokerError);
      await expect(nowhere.enqueue([message()])).rejects.toBeInstanceOf(BrokerError);
    } finally {
      await nowhere.disconnect();
    }
  });

  it("resolves pending receives with nothing on disconnect, and connects again", async () => {
    const b = await open();
    const pending = b.receive(["default"], { max: 1, leaseMs: LEASE });
    await waitFor(async () => (await blockedClients(admin, prefix)) > 0);
    await b.disconnect();
    expect(await pending).toEqual([]);
    await b.connect();
    await b.enqueue([message({ id: "again" })]);
    expect((await take(b, 1)).map((d) => d.message.id)).toEqual(["again"]);
  });

  it("throws QueueNotDeclaredError for an undeclared queue and rejects bad queue names", async () => {
    await expect(broker.enqueue([message({ queue: "undeclared" })])).rejects.toBeInstanceOf(
      QueueNotDeclaredError,
    );
    await expect(broker.declareQueue("bad{name}")).rejects.toThrow(/queue/);
  });
});

async function clientsOf(
  admin: Redis,
  prefix: string,
): Promise<{ id: string; name: string; flags: string; cmd: string }[]> {
  const list = await admin.client("LIST");
  return String(list)
    .split("\n")
    .filter((line) => line.includes(` name=${prefix}:`))
    .map((line) => ({
      id: /\bid=(\d+)/.exec(line)![1]!,
      name: /\bname=(\S+)/.exec(line)?.[1] ?? "",
      flags: /\bflags=(\S+)/.exec(line)?.[1] ?? "",
      cmd: /\bcmd=(\S+)/.exec(line)?.[1] ?? "",
    }));
}

async function blockedClients(admin: Redis, prefix: string): Promise<number> {
  return (await clientsOf(admin, prefix)).filter((c) => c.flags.includes("b")).length;
}

async function killClients(admin: Redis, prefix: string): Promise<number> {
  let killed = 0;
  for (const c of await clientsOf(admin, prefix)) {
    killed += Number(await admin.client("KILL", "ID", c.id).catch(() => 0));
  }
  return killed;
}

async function subscribers(admin: Redis, channel: string): Promise<number> {
  const reply = (await admin.pubsub("NUMSUB", channel)) as [string, number];
  return Number(reply[1]);
}

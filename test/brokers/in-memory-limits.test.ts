/**
 * Limits across every consumer (`declareLimits`, issue 26) on the in-memory broker: concurrency
 * and rate limits per topic and per key, keys served in turn, parked messages ("limited") in
 * counts and the admin view. Real broker, several consumers receiving at once; assertions are on
 * counts and order (lease times are the broker's own, read back from `leaseUntil`).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import type { Delivery, OutgoingMessage, TopicLimits } from "../../src/brokers/broker.js";
import { Job, Queue, Worker } from "../../src/index.js";
import { memoryApp } from "../helpers.js";
import { message, waitFor } from "./contract.js";

const LEASE = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let broker: InMemoryMessageBroker;

beforeEach(async () => {
  broker = new InMemoryMessageBroker({ leaseCheckIntervalMs: 20 });
  await broker.connect();
  await broker.declareQueue("default");
});

afterEach(async () => {
  await broker.disconnect();
});

const limit = (limits: TopicLimits | undefined, topic = "actor") =>
  broker.declareLimits("default", topic, limits);

/** `n` messages whose payload carries `{ account: { id: key }, region }`. */
function keyed(key: string, n: number, extra: Partial<OutgoingMessage> = {}): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) =>
    message({
      payload: JSON.stringify({ account: { id: key }, region: "eu", i }),
      ...extra,
    }),
  );
}

const keyOfDelivery = (d: Delivery): string =>
  (JSON.parse(d.message.payload!) as { account: { id: string } }).account.id;

async function take(max = 100, leaseMs = LEASE, consumer?: string): Promise<Delivery[]> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 100);
  try {
    return await broker.receive(["default"], {
      max,
      leaseMs,
      signal: ac.signal,
      ...(consumer ? { consumer } : {}),
    });
  } finally {
    clearTimeout(t);
  }
}

const ack = (ds: readonly Delivery[]) =>
  broker.settle(ds.map((delivery) => ({ kind: "ack" as const, delivery })));

interface Observed {
  /** Deliveries in lease order, with the broker's lease time. */
  readonly leases: { readonly id: string; readonly key: string; readonly at: number }[];
  /** Most leases held at once, per key and in all (from the broker's running list). */
  readonly maxPerKey: Map<string, number>;
  maxTotal: number;
}

/**
 * `consumers` loops receiving up to `max` each, holding every job a few ms before acking it,
 * until `total` are done. After every receive, the leases the broker holds are counted per key.
 */
async function consume(total: number, consumers: number, max: number): Promise<Observed> {
  const seen: Observed = { leases: [], maxPerKey: new Map(), maxTotal: 0 };
  const stop = new AbortController();
  let done = 0;
  const snapshot = async (): Promise<void> => {
    const running = (await broker.admin.jobs("default", "running", { limit: 100_000 })).items;
    const per = new Map<string, number>();
    for (const j of running) {
      const key = (JSON.parse(j.message.payload!) as { account: { id: string } }).account.id;
      per.set(key, (per.get(key) ?? 0) + 1);
    }
    for (const [key, n] of per) seen.maxPerKey.set(key, Math.max(seen.maxPerKey.get(key) ?? 0, n));
    seen.maxTotal = Math.max(seen.maxTotal, running.length);
  };
  const loop = async (c: number): Promise<void> => {
    while (!stop.signal.aborted) {
      const ds = await broker.receive(["default"], { max, leaseMs: LEASE, signal: stop.signal });
      await snapshot();
      for (const d of ds)
        seen.leases.push({ id: d.message.id, key: keyOfDelivery(d), at: d.leaseUntil - LEASE });
      await Promise.all(
        ds.map(async (d, i) => {
          await sleep(1 + ((c + i) % 4));
          await ack([d]);
          if (++done >= total) stop.abort();
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: consumers }, (_, c) => loop(c)));
  seen.leases.sort((a, b) => a.at - b.at);
  return seen;
}

/** Lease times (sorted) never hold more than `max` within any window of `perMs`. */
function expectWindows(times: readonly number[], max: number, perMs: number): void {
  for (let i = 0; i + max < times.length; i++) {
    expect(times[i + max]! - times[i]!).toBeGreaterThanOrEqual(perMs);
  }
}

describe("in-memory broker: limits across consumers (issue 26)", () => {
  it("claims limits", () => {
    expect(broker.capabilities.limits).toBe(true);
  });

  it("concurrency per actor: never more leases than the limit, with several consumers", async () => {
    await limit({ concurrency: { limit: 3 } });
    await broker.enqueue(keyed("a", 20).concat(keyed("b", 20)));
    const seen = await consume(40, 4, 5);
    expect(seen.leases).toHaveLength(40);
    expect(seen.maxTotal).toBe(3);
  });

  it("concurrency per key: each key within its limit, different keys side by side", async () => {
    await limit({ concurrency: { limit: 2, key: "account.id" } });
    await broker.enqueue([...keyed("a", 15), ...keyed("b", 15), ...keyed("c", 15)]);
    const seen = await consume(45, 4, 5);
    expect(seen.leases).toHaveLength(45);
    expect([...seen.maxPerKey.values()].every((n) => n <= 2)).toBe(true);
    expect(seen.maxPerKey.size).toBe(3);
    expect(seen.maxTotal).toBeGreaterThan(2);
  });

  it("rate limit: never more starts than the limit in any sliding window", async () => {
    await limit({ rateLimit: { limit: 4, perMs: 200 } });
    await broker.enqueue(keyed("a", 14));
    const seen = await consume(14, 3, 5);
    expect(seen.leases).toHaveLength(14);
    expectWindows(
      seen.leases.map((l) => l.at),
      4,
      200,
    );
  });

  it("rate and concurrency per key (one group carries both): each key within both", async () => {
    await limit({
      concurrency: { limit: 2, key: "account.id" },
      rateLimit: { limit: 3, perMs: 200, key: "account.id" },
    });
    await broker.enqueue([...keyed("a", 8), ...keyed("b", 8)]);
    const seen = await consume(16, 3, 4);
    expect(seen.leases).toHaveLength(16);
    expect([...seen.maxPerKey.values()].every((n) => n <= 2)).toBe(true);
    for (const key of ["a", "b"]) {
      const times = seen.leases.filter((l) => l.key === key).map((l) => l.at);
      expect(times).toHaveLength(8);
      expectWindows(times, 3, 200);
    }
  });

  it("concurrency per account and a rate per region (two key paths)", async () => {
    await limit({
      concurrency: { limit: 1, key: "account.id" },
      rateLimit: { limit: 3, perMs: 200, key: "region" },
    });
    const msgs = [...keyed("a", 5), ...keyed("b", 5), ...keyed("c", 5)];
    await broker.enqueue(msgs);
    const seen = await consume(15, 3, 4);
    expect(seen.leases).toHaveLength(15);
    expect([...seen.maxPerKey.values()].every((n) => n <= 1)).toBe(true);
    // Every message is of region "eu": one rate group across the accounts.
    expectWindows(
      seen.leases.map((l) => l.at),
      3,
      200,
    );
  });

  it("serves keys in turn: 10 of a small key after 100,000 of a big one start soon", async () => {
    await limit({ concurrency: { limit: 2, key: "account.id" } });
    for (let i = 0; i < 100_000; i += 5_000) await broker.enqueue(keyed("big", 5_000));
    await broker.enqueue(keyed("small", 10));
    // One of each key is ready, the others wait in their group.
    expect(await broker.counts("default")).toMatchObject({ ready: 2, limited: 100_008 });
    const order: string[] = [];
    while (order.filter((k) => k === "small").length < 10) {
      const ds = await take(3);
      order.push(...ds.map(keyOfDelivery));
      await ack(ds);
    }
    const bigBeforeFirstSmall = order.indexOf("small");
    const bigBeforeLastSmall = order.filter((k) => k === "big").length;
    expect(bigBeforeFirstSmall).toBeLessThanOrEqual(2);
    expect(bigBeforeLastSmall).toBeLessThanOrEqual(12);
  });

  it("100,000 distinct keys are all delivered (no scan over keys while receiving)", async () => {
    await limit({ concurrency: { limit: 1, key: "account.id" } });
    for (let i = 0; i < 100_000; i += 5_000)
      await broker.enqueue(
        Array.from({ length: 5_000 }, (_, j) =>
          message({ payload: JSON.stringify({ account: { id: `k${i + j}` } }) }),
        ),
      );
    expect(await broker.counts("default")).toEqual({
      ready: 100_000,
      delayed: 0,
      running: 0,
      dead: 0,
    });
    let received = 0;
    for (;;) {
      const ds = await take(1_000);
      if (ds.length === 0) break;
      received += ds.length;
      await ack(ds);
    }
    expect(received).toBe(100_000);
  });

  it("a recovered lease frees its slot: lease expiry and a consumer's expired heartbeat", async () => {
    await limit({ concurrency: { limit: 1 } });
    const [m1, m2, m3] = keyed("a", 3);
    await broker.enqueue([m1!, m2!, m3!]);
    const [crashed] = await take(5, 200);
    expect(crashed?.message.id).toBe(m1!.id);
    expect(await broker.counts("default")).toMatchObject({ running: 1, limited: 2, ready: 0 });
    // The lease expires unsettled: the slot frees and a waiting receiver gets the recovered
    // message, back in its place (first), not a second lease beside it.
    await broker.heartbeat("c1", ["default"], 60_000);
    const next = await broker.receive(["default"], { max: 5, leaseMs: LEASE, consumer: "c1" });
    expect(next.map((d) => [d.message.id, d.message.stalls])).toEqual([[m1!.id, 1]]);
    expect(await broker.settle([{ kind: "ack", delivery: crashed! }])).toEqual([false]);
    expect(await broker.counts("default")).toMatchObject({ running: 1, limited: 2, ready: 0 });
    // Its consumer's heartbeat ends: its lease ends at once, and so does its hold on the slot.
    const waiting = broker.receive(["default"], { max: 5, leaseMs: LEASE });
    await broker.heartbeat("c1", ["default"], 0);
    const again = await waiting;
    expect(again.map((d) => [d.message.id, d.message.stalls])).toEqual([[m1!.id, 2]]);
    expect(await broker.counts("default")).toMatchObject({ running: 1, limited: 2 });
    // Settled, it gives the slot to the next one in order.
    await ack(again);
    expect((await take(5)).map((d) => d.message.id)).toEqual([m2!.id]);
  });

  it("counts().limited and the admin view's heldBy show what waits for which limit", async () => {
    await broker.declareQueue("plain");
    expect(await broker.counts("plain")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    await limit({ concurrency: { limit: 1, key: "account.id" } });
    await limit({ rateLimit: { limit: 1, perMs: 60_000 } }, "rated");
    // Absent while nothing waits for a limit.
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    const [a1, a2, a3] = keyed("a", 3);
    const [r1, r2] = keyed("r", 2, { topic: "rated" });
    await broker.enqueue([a1!, a2!, a3!, r1!, r2!]);
    expect(await broker.counts("default")).toMatchObject({
      ready: 2,
      limited: 3,
      limitedBy: { actor: 2, rated: 1 },
    });
    expect((await take(10)).map((d) => d.message.id)).toEqual([a1!.id, r1!.id]);
    expect(await broker.counts("default")).toMatchObject({ ready: 0, running: 2, limited: 3 });
    expect((await broker.admin.job("default", a3!.id))?.heldBy).toEqual({
      limit: "concurrency",
      key: "a",
      max: 1,
    });
    expect((await broker.admin.job("default", r2!.id))?.heldBy).toEqual({
      limit: "rateLimit",
      key: "",
      max: 1,
    });
    const ready = (await broker.admin.jobs("default", "ready")).items;
    expect(ready.map((j) => j.message.id)).toEqual([a2!.id, a3!.id, r2!.id]);
    expect(ready.every((j) => j.state === "ready" && j.heldBy !== undefined)).toBe(true);
    const running = (await broker.admin.jobs("default", "running")).items;
    expect(running.every((j) => j.heldBy === undefined)).toBe(true);
  });

  it("limits apply to messages enqueued before the declaration, delayed ones included", async () => {
    await broker.enqueue(keyed("a", 8));
    await broker.enqueue(keyed("a", 2, { executeAt: Date.now() + 100 }));
    await limit({ concurrency: { limit: 2, key: "account.id" } });
    expect(await take(20)).toHaveLength(2);
    expect(await broker.counts("default")).toMatchObject({ running: 2, limited: 6, delayed: 2 });
    await waitFor(async () => (await broker.counts("default")).delayed === 0);
    expect(await broker.counts("default")).toMatchObject({ running: 2, limited: 8, ready: 0 });
  });

  it("removing limits releases everything, in enqueue order", async () => {
    const msgs = keyed("a", 6);
    await broker.enqueue(msgs);
    await limit({ concurrency: { limit: 1 } });
    const [first] = await take(10);
    expect(await broker.counts("default")).toMatchObject({ running: 1, limited: 5 });
    await limit(undefined);
    expect(await broker.counts("default")).toEqual({ ready: 5, delayed: 0, running: 1, dead: 0 });
    expect((await take(10)).map((d) => d.message.id)).toEqual(msgs.slice(1).map((m) => m.id));
    await ack([first!]);
  });

  it("keeps strict priority across groups and orders a group's parked messages by priority", async () => {
    await limit({ concurrency: { limit: 1, key: "account.id" } });
    const [b1] = keyed("b", 1, { priority: 1 });
    const [a1] = keyed("a", 1, { priority: 2 });
    const [a2] = keyed("a", 1, { priority: 0 });
    const [a3] = keyed("a", 1, { priority: 1 });
    await broker.enqueue([b1!, a1!, a2!, a3!]);
    // a2 (high) takes group a's turn from a1 (low): it runs first, before b1.
    const ids: string[] = [];
    for (let ds = await take(10); ds.length > 0; ds = await take(10)) {
      ids.push(...ds.map((d) => d.message.id));
      await ack(ds);
    }
    expect(ids).toEqual([a2!.id, b1!.id, a3!.id, a1!.id]);
  });

  it("flush and delete clear the groups; admin cancel and replay keep the bookkeeping", async () => {
    await limit({ concurrency: { limit: 1 } });
    await broker.enqueue(keyed("a", 3));
    expect(await take(10)).toHaveLength(1);
    await broker.flushQueue("default");
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    const [m1, m2, m3] = keyed("a", 3);
    await broker.enqueue([m1!, m2!, m3!]);
    const [d1] = await take(10); // the flushed lease holds no slot
    expect(d1?.message.id).toBe(m1!.id);
    expect(await broker.admin.cancel("default", m2!.id)).toBe("removed");
    expect(await broker.counts("default")).toMatchObject({ running: 1, limited: 1 });
    await broker.settle([{ kind: "dead", delivery: d1!, error: { name: "E", message: "x" } }]);
    const [d3] = await take(10);
    expect(d3?.message.id).toBe(m3!.id);
    expect(await broker.admin.replay("default")).toBe(1);
    expect(await broker.counts("default")).toMatchObject({ running: 1, limited: 1, dead: 0 });
    await ack([d3!]);
    expect((await take(10)).map((d) => d.message.id)).toEqual([m1!.id]);
    await broker.deleteQueue("default");
    await broker.declareQueue("default");
    await broker.enqueue(keyed("a", 3));
    expect(await take(10)).toHaveLength(3); // the queue's limits went with it
  });

  it("a worker's actor option concurrency holds across two workers", async () => {
    const { app, broker: b } = memoryApp();
    let running = 0;
    let most = 0;
    const make = () => {
      const w = new Worker({ concurrency: 5, messagesLimit: 6, handleSignals: [] });
      const job = async function limited_job(args: { account: string }): Promise<void> {
        most = Math.max(most, ++running + (args.account === "x" ? 0 : 100));
        await sleep(5);
        running--;
      };
      w.actor({ concurrency: { limit: 2, key: "account" } }, job);
      return w;
    };
    await app.magic(async () => {
      await new Queue().declare();
      for (let i = 0; i < 12; i++)
        await new Job("limited_job", { args: { account: "x" } }).enqueue();
    });
    await app.magic(() => Promise.all([make().run(), make().run()]));
    expect(most).toBe(2);
    expect(await b.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    await b.disconnect();
  });
});

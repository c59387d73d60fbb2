/**
 * Result stores kept apart from brokers (what RabbitMQ needs for results): the in-memory and the
 * Redis store keep, expire and hand results to waiters, and a connection given a store writes a
 * job's result there before its settlement reaches the broker.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ResultStore, StoredResult } from "../../src/brokers/broker.js";
import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { Connection } from "../../src/index.js";
import { InMemoryResultStore } from "../../src/results/in-memory-result-store.js";
import { RedisResultStore } from "../../src/results/redis-result-store.js";
import { message, waitFor } from "./contract.js";
import {
  adminClient,
  deletePrefix,
  describeRedis,
  redisAvailable,
  REDIS_URL,
  uniquePrefix,
} from "./redis-env.js";

const ok = (value: string): StoredResult => ({ ok: true, value, finishedAt: Date.now() });

function describeStore(
  name: string,
  make: () => { store: ResultStore; drop: () => Promise<void> },
): void {
  describe(`result store: ${name}`, () => {
    const drops: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const d of drops.splice(0)) await d();
    });
    async function open(): Promise<ResultStore> {
      const { store, drop } = make();
      drops.push(async () => {
        await store.disconnect();
        await drop();
      });
      await store.connect();
      return store;
    }

    it("wakes a waiter when the result is stored, and reads it later from another client", async () => {
      const a = await open();
      const waiting = a.wait("job-1", { timeoutMs: 10_000 });
      const twice = a.wait("job-1", { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 50));
      const stored = ok('"v"');
      await a.store("job-1", stored, 60_000);
      expect(await waiting).toEqual(stored);
      expect(await twice).toEqual(stored);
      expect(await a.read("job-1")).toEqual(stored);
      expect(await a.wait("job-1", { timeoutMs: 10 })).toEqual(stored);
    });

    it("delete removes a stored result; deleting one that is not stored is no error", async () => {
      const a = await open();
      await a.store("gone", ok("1"), 60_000);
      await a.store("stays", ok("2"), 60_000);
      await a.delete!("gone");
      await a.delete!("never-stored");
      expect(await a.read("gone")).toBeUndefined();
      expect(await a.read("stays")).toEqual(expect.objectContaining({ value: "2" }));
    });

    it("gives up after the timeout or the signal, and forgets a result after its time to live", async () => {
      const a = await open();
      expect(await a.wait("never", { timeoutMs: 50 })).toBeUndefined();
      const ac = new AbortController();
      const aborted = a.wait("never", { timeoutMs: 10_000, signal: ac.signal });
      ac.abort();
      expect(await aborted).toBeUndefined();
      await a.store("short", ok("1"), 100);
      await waitFor(async () => (await a.read("short")) === undefined);
      expect(await a.read("short")).toBeUndefined();
    });
  });
}

describeStore("in-memory", () => {
  const store = new InMemoryResultStore();
  return { store, drop: async () => {} };
});

describeRedis("redis result store", () => {
  if (!redisAvailable) return;
  describeStore("redis", () => {
    const prefix = uniquePrefix();
    return {
      store: new RedisResultStore(REDIS_URL, { prefix }),
      drop: async () => {
        const admin = adminClient();
        try {
          await deletePrefix(admin, prefix);
        } finally {
          admin.disconnect();
        }
      },
    };
  });

  it("a waiter in one process is woken by a result stored through another connection", async () => {
    const prefix = uniquePrefix();
    const a = new RedisResultStore(REDIS_URL, { prefix });
    const b = new RedisResultStore(REDIS_URL, { prefix });
    try {
      await Promise.all([a.connect(), b.connect()]);
      const waiting = a.wait("cross", { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 50));
      await b.store("cross", ok("2"), 60_000);
      expect(await waiting).toEqual(expect.objectContaining({ ok: true, value: "2" }));
    } finally {
      await a.disconnect();
      await b.disconnect();
      const admin = adminClient();
      await deletePrefix(admin, prefix);
      admin.disconnect();
    }
  });
});

describe("a connection with a result store", () => {
  it("stores a result before its settlement reaches the broker, and serves it from the store", async () => {
    const broker = new InMemoryMessageBroker();
    const seen: number[] = [];
    class Watching extends InMemoryResultStore {
      override async store(id: string, result: StoredResult, ttlMs: number): Promise<void> {
        // The message is still leased (not acked) when its result is written.
        seen.push((await broker.counts("default")).running);
        await super.store(id, result, ttlMs);
      }
    }
    const connection = new Connection(broker, { results: new Watching() });
    await connection.connect();
    try {
      const wrapped = connection.broker;
      expect(wrapped.capabilities?.results).toBe(true);
      await wrapped.declareQueue("default");
      await wrapped.enqueue([message({ id: "r1", resultTtlMs: 60_000 })]);
      const [d] = await wrapped.receive(["default"], { max: 1, leaseMs: 60_000 });
      const stored = ok("42");
      expect(
        await wrapped.settle([{ kind: "ack", delivery: d!, result: { stored, ttlMs: 60_000 } }]),
      ).toEqual([true]);
      expect(seen).toEqual([1]);
      expect(await wrapped.readResult("r1")).toEqual(stored);
      // The broker's own result store was not written.
      expect(await broker.readResult("r1")).toBeUndefined();
      expect((await broker.counts("default")).running).toBe(0);
      // Removing goes to the store too, never to the broker's own results.
      await broker.storeResult("r1", { stored, ttlMs: 60_000 });
      await wrapped.deleteResult!("r1", { queue: "default" });
      expect(await wrapped.readResult("r1")).toBeUndefined();
      expect(await broker.readResult("r1")).toEqual(stored);
    } finally {
      await connection.disconnect();
    }
  });
});

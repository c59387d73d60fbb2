/**
 * Redis broker: where ready messages wait. Fresh immediate messages sit in one list per priority
 * and messages that come back to an earlier place in the `ready` sorted set (scripts/common.lua);
 * consumers must still see one queue in strict (priority, seq) order, a removed message must
 * never be delivered, and a waiting message must cost less Redis memory than a sorted-set member.
 */
import type { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Delivery } from "../../src/brokers/broker.js";
import type { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { message } from "./contract.js";
import { adminClient, describeRedis, keysWithPrefix, testBroker } from "./redis-env.js";

describeRedis("redis broker ready order", () => {
  let admin: Redis;
  let broker: RedisMessageBroker;
  let prefix: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    admin = adminClient();
    ({ broker, prefix, cleanup } = testBroker());
    await broker.connect();
    await broker.declareQueue("default");
  });

  afterEach(async () => {
    await cleanup();
    admin.disconnect();
  });

  async function take(max: number): Promise<Delivery[]> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 300);
    try {
      return await broker.receive(["default"], { max, leaseMs: 30_000, signal: ac.signal });
    } finally {
      clearTimeout(timer);
    }
  }

  async function drain(): Promise<string[]> {
    const ids: string[] = [];
    for (;;) {
      const got = await take(1);
      if (got.length === 0) return ids;
      ids.push(got[0]!.message.id);
      await broker.settle([{ kind: "ack", delivery: got[0]! }]);
    }
  }

  it("a requeued message goes back ahead of later messages of its priority, behind higher ones", async () => {
    await broker.enqueue(["a", "b", "c"].map((id) => message({ id })));
    const [a] = await take(1);
    expect(a!.message.id).toBe("a");
    await broker.enqueue([message({ id: "urgent", priority: 0 }), message({ id: "d" })]);
    await broker.settle([{ kind: "requeue", delivery: a!, attempt: 2 }]);
    await broker.enqueue([message({ id: "low", priority: 2 }), message({ id: "e" })]);
    expect(await drain()).toEqual(["urgent", "a", "b", "c", "d", "e", "low"]);
  });

  it("a delayed message, once due, takes its place by seq among the waiting ones", async () => {
    await broker.enqueue([message({ id: "later", executeAt: Date.now() + 150 })]);
    await broker.enqueue(["x", "y"].map((id) => message({ id })));
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await drain()).toEqual(["later", "x", "y"]);
  });

  it("a waiting message cancelled is never delivered; the same id enqueued again is, once", async () => {
    await broker.enqueue(["a", "gone", "b"].map((id) => message({ id })));
    expect(await broker.admin.cancel("default", "gone")).toBe("removed");
    expect((await broker.counts("default")).ready).toBe(2);
    expect((await broker.admin.jobs("default", "ready")).items.map((j) => j.message.id)).toEqual([
      "a",
      "b",
    ]);
    await broker.enqueue([message({ id: "gone" })]);
    expect((await broker.counts("default")).ready).toBe(3);
    expect(await drain()).toEqual(["a", "b", "gone"]);
    expect((await broker.counts("default")).ready).toBe(0);
    expect(await broker.deadLetters("default")).toEqual([]);
  });

  it("a cancelled message enqueued again at a higher priority runs once, at that priority", async () => {
    await broker.enqueue(["a", "moved"].map((id) => message({ id, priority: 2 })));
    expect(await broker.admin.cancel("default", "moved")).toBe("removed");
    await broker.enqueue([message({ id: "moved", priority: 0 })]);
    expect(await drain()).toEqual(["moved", "a"]);
    expect(await broker.deadLetters("default")).toEqual([]);
  });

  it("a waiting message replaced by a periodic definition of its id is delivered once", async () => {
    await broker.enqueue(["a", "tick", "b"].map((id) => message({ id })));
    await broker.enqueue([message({ id: "tick", schedule: { everyMs: 60_000 } })]);
    expect((await broker.counts("default")).ready).toBe(3);
    const ids = await drain();
    expect(ids.filter((id) => id === "tick")).toHaveLength(1);
    expect(ids.sort()).toEqual(["a", "b", "tick"]);
  });

  it("a waiting message costs at most 190 bytes of Redis memory (310 in one sorted set, 200 with the first meta layout)", async () => {
    const n = 20_000;
    for (let i = 0; i < n; i += 1000)
      await broker.enqueue(
        Array.from({ length: 1000 }, (_, j) =>
          message({ id: `${String(i + j).padStart(8, "0")}${"f".repeat(24)}`, payload: undefined }),
        ),
      );
    let bytes = 0;
    for (const key of await keysWithPrefix(admin, prefix))
      bytes += Number(await admin.memory("USAGE", key, "SAMPLES", "0"));
    expect(bytes / n).toBeLessThanOrEqual(190);
    expect((await broker.counts("default")).ready).toBe(n);
  });
});

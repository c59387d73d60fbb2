/**
 * Limits across consumers (`declareLimits`): concurrency and rate limits per topic and per key,
 * keys served in turn. Run on every broker that claims `limits`; `open()` gives another broker
 * instance over the same store (another process's connection, for Redis).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { capabilitiesOf, type Delivery, type JobView, type MessageBroker } from "repid/broker";
import { message, waitFor } from "./contract.js";

export type SharedBrokerFactory = () => Promise<{
  /** A broker instance over the test's store; every call gives one over the same store. */
  open: () => Promise<MessageBroker>;
  cleanup: () => Promise<void>;
}>;

const LEASE = 60_000;

function job(topic: string, n: number, args: Record<string, unknown> = {}) {
  return message({ topic, payload: JSON.stringify({ n, ...args }) });
}

function nOf(d: Delivery): number {
  return (JSON.parse(d.message.payload!) as { n: number }).n;
}

function keyOfDelivery(d: Delivery): string {
  return (JSON.parse(d.message.payload!) as { account: { id: string } }).account.id;
}

export function describeLimitsContract(name: string, factory: SharedBrokerFactory): void {
  describe(`limits contract: ${name}`, () => {
    let open: () => Promise<MessageBroker>;
    let cleanup: () => Promise<void>;
    let broker: MessageBroker;

    beforeEach(async (ctx) => {
      const made = await factory();
      open = made.open;
      cleanup = made.cleanup;
      broker = await open();
      if (!capabilitiesOf(broker).limits) {
        await cleanup();
        ctx.skip();
        return;
      }
      await broker.declareQueue("default");
    });

    afterEach(async () => {
      await cleanup?.();
    });

    it("leases at most `limit` messages of a topic at once, across consumers, and all of them in the end", async () => {
      await broker.declareLimits!("default", "sync", { concurrency: { limit: 2 } });
      await broker.enqueue(Array.from({ length: 12 }, (_, n) => job("sync", n)));
      await broker.enqueue([job("other", 100), job("other", 101), job("other", 102)]);
      // One receive takes both slots of the limited topic and every other message.
      const first = await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(first.filter((d) => d.message.topic === "sync")).toHaveLength(2);
      expect(first.filter((d) => d.message.topic === "other")).toHaveLength(3);
      expect(await broker.counts("default")).toMatchObject({ running: 5, limited: 10 });
      await broker.settle(
        first.filter((d) => d.message.topic === "other").map((d) => ({ kind: "ack", delivery: d })),
      );

      const consumers = await Promise.all([open(), open(), open()]);
      let held = first.filter((d) => d.message.topic === "sync").length;
      let most = held;
      const seen = new Set(first.filter((d) => d.message.topic === "sync").map(nOf));
      const pending = first.filter((d) => d.message.topic === "sync");
      const stop = new AbortController();
      const loops = consumers.map(async (c) => {
        while (!stop.signal.aborted) {
          const got = await c.receive(["default"], { max: 5, leaseMs: LEASE, signal: stop.signal });
          held += got.length;
          most = Math.max(most, held);
          for (const d of got) seen.add(nOf(d));
          await new Promise((r) => setTimeout(r, 5));
          held -= got.length;
          await c.settle(got.map((d) => ({ kind: "ack", delivery: d })));
        }
      });
      held -= pending.length;
      await broker.settle(pending.map((d) => ({ kind: "ack", delivery: d })));
      await waitFor(() => seen.size === 12);
      stop.abort();
      await Promise.all(loops);
      expect(most).toBeLessThanOrEqual(2);
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n));
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    });

    it("limits per key: one lease per account at once, accounts side by side", async () => {
      await broker.declareLimits!("default", "sync", {
        concurrency: { limit: 1, key: "account.id" },
      });
      const accounts = ["a", "b", "c"];
      await broker.enqueue(
        Array.from({ length: 15 }, (_, n) => job("sync", n, { account: { id: accounts[n % 3] } })),
      );
      const got = await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(got.map(keyOfDelivery).sort()).toEqual(["a", "b", "c"]);
      const other = await open();
      const none = await other.receive(["default"], {
        max: 10,
        leaseMs: LEASE,
        signal: AbortSignal.timeout(300),
      });
      expect(none).toEqual([]);
      // Settling account b's lease lets exactly one more of b go.
      await broker.settle([{ kind: "ack", delivery: got.find((d) => keyOfDelivery(d) === "b")! }]);
      const next = await other.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(next.map(keyOfDelivery)).toEqual(["b"]);
    });

    it("a key given as a number, or missing, is a key too", async () => {
      await broker.declareLimits!("default", "sync", {
        concurrency: { limit: 1, key: "account.id" },
      });
      await broker.enqueue([
        job("sync", 1, { account: { id: 7 } }),
        job("sync", 2, { account: { id: 7 } }),
        job("sync", 3, {}),
        job("sync", 4, {}),
      ]);
      const got = await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(got.map(nOf).sort()).toEqual([1, 3]);
    });

    it("starts at most `limit` per window, and the rest when the window allows, without a poll", async () => {
      await broker.declareLimits!("default", "ping", { rateLimit: { limit: 3, perMs: 400 } });
      await broker.enqueue(Array.from({ length: 7 }, (_, n) => job("ping", n)));
      const first = await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(first).toHaveLength(3);
      await broker.settle(first.map((d) => ({ kind: "ack", delivery: d })));
      const at: number[] = [];
      const other = await open();
      const rest: Delivery[] = [];
      const firstAt = Date.now();
      while (rest.length < 4) {
        const got = await other.receive(["default"], { max: 10, leaseMs: LEASE });
        for (const d of got) at.push(Date.now());
        rest.push(...got);
        await other.settle(got.map((d) => ({ kind: "ack", delivery: d })));
      }
      // The second window's three come together, the seventh a window later.
      expect(rest.map(nOf).sort()).toEqual([3, 4, 5, 6]);
      expect(at.filter((t) => t - firstAt < 700)).toHaveLength(3);
    });

    it("a consumer of several queues blocked on a full rate window wakes when it allows", async () => {
      await broker.declareQueue("other");
      await broker.declareLimits!("default", "ping", { rateLimit: { limit: 1, perMs: 300 } });
      await broker.enqueue([job("ping", 1), job("ping", 2)]);
      const first = await broker.receive(["other", "default"], { max: 10, leaseMs: LEASE });
      expect(first.map(nOf)).toEqual([1]);
      const other = await open();
      const next = await other.receive(["other", "default"], {
        max: 10,
        leaseMs: LEASE,
        signal: AbortSignal.timeout(5_000),
      });
      expect(next.map(nOf)).toEqual([2]);
    });

    it("a key path per rate group: accounts have windows of their own", async () => {
      await broker.declareLimits!("default", "ping", {
        rateLimit: { limit: 1, perMs: 60_000, key: "account.id" },
      });
      await broker.enqueue([
        job("ping", 1, { account: { id: "a" } }),
        job("ping", 2, { account: { id: "a" } }),
        job("ping", 3, { account: { id: "b" } }),
      ]);
      const got = await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(got.map(nOf).sort()).toEqual([1, 3]);
      expect(await broker.counts("default")).toMatchObject({ limited: 1 });
    });

    it("serves keys in turn: a small key's jobs start before a big key's backlog is through", async () => {
      await broker.declareLimits!("default", "sync", {
        concurrency: { limit: 2, key: "account.id" },
      });
      await broker.enqueue(
        Array.from({ length: 300 }, (_, n) => job("sync", n, { account: { id: "big" } })),
      );
      await broker.enqueue(
        Array.from({ length: 5 }, (_, n) => job("sync", 1000 + n, { account: { id: "small" } })),
      );
      const order: string[] = [];
      while (order.filter((k) => k === "small").length < 5) {
        const got = await broker.receive(["default"], { max: 1, leaseMs: LEASE });
        order.push(...got.map(keyOfDelivery));
        await broker.settle(got.map((d) => ({ kind: "ack", delivery: d })));
      }
      // Taken in turn: the small key's five come within the first dozen starts, not after 300.
      expect(order.length).toBeLessThanOrEqual(12);
      expect(order.indexOf("small")).toBeLessThanOrEqual(2);
    });

    it("priorities still come first across keys", async () => {
      await broker.declareLimits!("default", "sync", {
        concurrency: { limit: 5, key: "account.id" },
      });
      await broker.enqueue([
        { ...job("sync", 1, { account: { id: "a" } }), priority: 2 },
        { ...job("sync", 2, { account: { id: "b" } }), priority: 0 },
        { ...job("sync", 3, { account: { id: "c" } }), priority: 1 },
      ]);
      const got = await broker.receive(["default"], { max: 3, leaseMs: LEASE });
      expect(got.map(nOf)).toEqual([2, 3, 1]);
    });

    it("a lease that ends unsettled frees its slot; its settlement is then refused", async () => {
      await broker.declareLimits!("default", "sync", { concurrency: { limit: 1 } });
      await broker.enqueue([job("sync", 1), job("sync", 2)]);
      const crashed = await broker.receive(["default"], { max: 10, leaseMs: 200 });
      expect(crashed.map(nOf)).toEqual([1]);
      const other = await open();
      const next: Delivery[] = [];
      while (next.length === 0) {
        next.push(...(await other.receive(["default"], { max: 10, leaseMs: LEASE })));
      }
      // Recovered (stalls + 1) and back in its place, first again; one slot, one lease.
      expect(next.map(nOf)).toEqual([1]);
      expect(await broker.settle([{ kind: "ack", delivery: crashed[0]! }])).toEqual([false]);
      expect(await broker.counts("default")).toMatchObject({ running: 1, limited: 1 });
    });

    it("applies to messages enqueued before the declaration; counts and the job view show what waits", async () => {
      const early = Array.from({ length: 3 }, (_, n) => job("sync", n, { account: { id: "x" } }));
      await broker.enqueue(early);
      await broker.declareLimits!("default", "sync", {
        concurrency: { limit: 1, key: "account.id" },
      });
      const got = await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(got.map(nOf)).toEqual([0]);
      expect(await broker.counts("default")).toMatchObject({
        ready: 0,
        running: 1,
        limited: 2,
        limitedBy: { sync: 2 },
      });
      if (broker.admin) {
        const view = await broker.admin.job("default", early[1]!.id);
        expect(view).toMatchObject({
          state: "ready",
          heldBy: { limit: "concurrency", key: "x", max: 1 },
        });
        const running = await broker.admin.job("default", early[0]!.id);
        expect(running?.heldBy).toBeUndefined();
      }
    });

    it("an operator's list of ready jobs shows the ones limits hold, after those ready to run", async () => {
      const jobs = [
        job("sync", 0, { account: { id: "x" } }),
        job("sync", 1, { account: { id: "x" } }),
        job("sync", 2, { account: { id: "x" } }),
        job("free", 3),
      ];
      await broker.declareLimits!("default", "sync", {
        concurrency: { limit: 1, key: "account.id" },
      });
      await broker.enqueue(jobs);
      const got = await broker.receive(["default"], { max: 1, leaseMs: LEASE });
      expect(got.map(nOf)).toEqual([0]);
      expect(await broker.counts("default")).toMatchObject({ running: 1, limited: 2 });
      if (!broker.admin) return;
      const listed = new Map<string, JobView>();
      let cursor: string | undefined;
      do {
        const page = await broker.admin.jobs("default", "ready", {
          limit: 1,
          ...(cursor ? { cursor } : {}),
        });
        for (const view of page.items) listed.set(view.message.id, view);
        cursor = page.next;
      } while (cursor);
      // Every waiting job once: the free one, and both held by the key's one slot.
      expect([...listed.keys()].sort()).toEqual([jobs[1]!.id, jobs[2]!.id, jobs[3]!.id].sort());
      expect(listed.get(jobs[3]!.id)?.heldBy).toBeUndefined();
      for (const held of [jobs[1]!, jobs[2]!]) {
        expect(listed.get(held.id)).toMatchObject({
          state: "ready",
          heldBy: { limit: "concurrency", key: "x", max: 1 },
        });
      }
    });

    it("removing the limits lets everything waiting go, in its place", async () => {
      await broker.declareLimits!("default", "sync", { concurrency: { limit: 1 } });
      await broker.enqueue(Array.from({ length: 4 }, (_, n) => job("sync", n)));
      const got = await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(got.map(nOf)).toEqual([0]);
      await broker.declareLimits!("default", "sync", undefined);
      expect(await broker.counts("default")).toEqual({ ready: 3, delayed: 0, running: 1, dead: 0 });
      const rest = await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(rest.map(nOf)).toEqual([1, 2, 3]);
    });

    it("an operator's cancel removes a waiting limited job; a flush empties what limits hold", async () => {
      await broker.declareLimits!("default", "sync", { concurrency: { limit: 1 } });
      const jobs = Array.from({ length: 4 }, (_, n) => job("sync", n));
      await broker.enqueue(jobs);
      await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      if (broker.admin) {
        expect(await broker.admin.cancel("default", jobs[2]!.id)).toBe("removed");
        expect(await broker.counts("default")).toMatchObject({ running: 1, limited: 2 });
      }
      await broker.flushQueue("default");
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
      // The declared limits stay: a new message is held by them as before.
      await broker.enqueue([job("sync", 10), job("sync", 11)]);
      const got = await broker.receive(["default"], { max: 10, leaseMs: LEASE });
      expect(got.map(nOf)).toEqual([10]);
    });
  });
}

/**
 * The broker contract suite: every broker runs these same tests (in-memory.test.ts,
 * redis-contract.test.ts). Each test gets a fresh broker from the factory.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  capabilitiesOf,
  type BrokerCapabilities,
  type Delivery,
  type MessageBroker,
  type OutgoingMessage,
} from "repid/broker";
import { NotSupportedError, QueueNotDeclaredError } from "repid";

export interface ContractBrokerOptions {
  /** Lease expiries tolerated before a message is dead-lettered as STALLED. */
  readonly maxStalls?: number;
}

export type BrokerFactory = (
  options: ContractBrokerOptions,
) => Promise<{ broker: MessageBroker; cleanup: () => Promise<void> }>;

const LEASE = 60_000;

export function message(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: randomUUID().replaceAll("-", ""),
    queue: "default",
    topic: "actor",
    payload: JSON.stringify({ n: 1 }),
    priority: 1,
    retries: 0,
    timeoutMs: 1000,
    ...overrides,
  };
}

/** Polls a condition (not a time): resolves when it holds, fails the test after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function describeBrokerContract(name: string, factory: BrokerFactory): void {
  describe(`broker contract: ${name}`, () => {
    let broker: MessageBroker;
    let cleanup: () => Promise<void>;
    const extra: (() => Promise<void>)[] = [];

    async function open(options: ContractBrokerOptions = {}): Promise<MessageBroker> {
      const made = await factory(options);
      await made.broker.connect();
      extra.push(made.cleanup);
      return made.broker;
    }

    beforeEach(async () => {
      const made = await factory({});
      broker = made.broker;
      cleanup = made.cleanup;
      await broker.connect();
      await broker.declareQueue("default");
    });

    afterEach(async () => {
      for (const c of extra.splice(0)) await c();
      await cleanup();
    });

    /** True (and the test reported skipped) when the broker lacks what the test needs. */
    function lacks(ctx: { skip: () => void }, capability: keyof BrokerCapabilities): boolean {
      if (capabilitiesOf(broker)[capability]) return false;
      ctx.skip();
      return true;
    }

    async function take(max = 100, queues = ["default"], leaseMs = LEASE): Promise<Delivery[]> {
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), 300);
      try {
        return await broker.receive(queues, { max, leaseMs, signal: ac.signal });
      } finally {
        clearTimeout(t);
      }
    }

    it("declaring a queue twice has no effect and it then exists", async () => {
      expect(await broker.queueExists("other")).toBe(false);
      await broker.declareQueue("other");
      await broker.enqueue([message({ queue: "other" })]);
      await broker.declareQueue("other");
      expect(await broker.queueExists("other")).toBe(true);
      expect((await broker.counts("other")).ready).toBe(1);
    });

    it("refuses a batch with an undeclared queue and stores none of it", async () => {
      const err = await broker.enqueue([message(), message({ queue: "nope" })]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(QueueNotDeclaredError);
      expect((err as QueueNotDeclaredError).queue).toBe("nope");
      expect((await broker.counts("default")).ready).toBe(0);
    });

    it("delivers a message as sent, with attempt 1 and a lease", async () => {
      const sent = message({ payload: '{"a":[1,2,{"b":null}]}', retries: 2, timeoutMs: 1234 });
      const before = Date.now();
      expect(await broker.enqueue([sent])).toEqual([{ id: sent.id, created: true }]);
      const [d] = await take();
      expect(d!.message).toMatchObject({ ...sent, attempt: 1, stalls: 0 });
      expect(d!.message.enqueuedAt).toBeGreaterThanOrEqual(before - 5);
      expect(d!.leaseUntil).toBeGreaterThan(Date.now());
      expect(typeof d!.token).toBe("string");
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 1, dead: 0 });
    });

    it("keeps an absent payload absent", async () => {
      const sent = message({ payload: undefined });
      await broker.enqueue([sent]);
      const [d] = await take();
      expect(d!.message.payload).toBeUndefined();
    });

    it("delivers high before medium before low, FIFO within a level", async () => {
      const msgs = [
        message({ priority: 2, topic: "low1" }),
        message({ priority: 1, topic: "med1" }),
        message({ priority: 0, topic: "high1" }),
        message({ priority: 1, topic: "med2" }),
        message({ priority: 2, topic: "low2" }),
        message({ priority: 0, topic: "high2" }),
      ];
      await broker.enqueue(msgs.slice(0, 3));
      await broker.enqueue(msgs.slice(3));
      const got = await take(10);
      expect(got.map((d) => d.message.topic)).toEqual([
        "high1",
        "high2",
        "med1",
        "med2",
        "low1",
        "low2",
      ]);
    });

    it("respects max and keeps FIFO order across receives", async () => {
      const msgs = Array.from({ length: 25 }, (_, i) => message({ topic: `t${i}` }));
      await broker.enqueue(msgs);
      const a = await take(10);
      const b = await take(10);
      const c = await take(10);
      expect([a.length, b.length, c.length]).toEqual([10, 10, 5]);
      expect([...a, ...b, ...c].map((d) => d.message.topic)).toEqual(msgs.map((m) => m.topic));
    });

    it("adds no second message for an id that is waiting, delayed or running", async (ctx) => {
      if (lacks(ctx, "uniqueIds")) return;
      const m = message({ id: "unique-1" });
      expect(await broker.enqueue([m])).toEqual([{ id: "unique-1", created: true }]);
      expect(await broker.enqueue([{ ...m, payload: '"other"' }])).toEqual([
        { id: "unique-1", created: false },
      ]);
      const [d] = await take();
      expect(await broker.enqueue([m])).toEqual([{ id: "unique-1", created: false }]);
      await broker.settle([
        { kind: "requeue", delivery: d!, attempt: 2, executeAt: Date.now() + 60_000 },
      ]);
      expect(await broker.enqueue([m])).toEqual([{ id: "unique-1", created: false }]);
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 1, running: 0, dead: 0 });
    });

    it("accepts the id again once the message was acked", async () => {
      const m = message({ id: "unique-2" });
      await broker.enqueue([m]);
      const [d] = await take();
      expect(await broker.settle([{ kind: "ack", delivery: d! }])).toEqual([true]);
      expect(await broker.enqueue([m])).toEqual([{ id: "unique-2", created: true }]);
    });

    it("waits for a message instead of returning empty, and wakes on enqueue", async () => {
      const pending = broker.receive(["default"], { max: 5, leaseMs: LEASE });
      await new Promise((r) => setTimeout(r, 50));
      const m = message();
      await broker.enqueue([m]);
      const got = await pending;
      expect(got.map((d) => d.message.id)).toEqual([m.id]);
    });

    it("resolves a waiting receive with nothing when its signal aborts", async () => {
      const ac = new AbortController();
      const pending = broker.receive(["default"], { max: 5, leaseMs: LEASE, signal: ac.signal });
      ac.abort();
      expect(await pending).toEqual([]);
    });

    it("holds a delayed message until it is due, then delivers it to a waiting receiver", async (ctx) => {
      if (lacks(ctx, "delays")) return;
      const due = Date.now() + 400;
      const m = message({ executeAt: due });
      await broker.enqueue([m]);
      expect((await broker.counts("default")).delayed).toBe(1);
      expect(await take()).toEqual([]);
      const got = await broker.receive(["default"], { max: 5, leaseMs: LEASE });
      expect(Date.now()).toBeGreaterThanOrEqual(due - 5);
      expect(got.map((d) => d.message.id)).toEqual([m.id]);
    });

    it("delivers from several queues", async () => {
      await broker.declareQueue("q2");
      const a = message();
      const b = message({ queue: "q2" });
      await broker.enqueue([a, b]);
      const got = await take(10, ["default", "q2"]);
      expect(got.map((d) => d.message.id).sort()).toEqual([a.id, b.id].sort());
    });

    it("acks: the message leaves and a second settle with the same token is refused", async () => {
      await broker.enqueue([message()]);
      const [d] = await take();
      expect(await broker.settle([{ kind: "ack", delivery: d! }])).toEqual([true]);
      expect(await broker.settle([{ kind: "ack", delivery: d! }])).toEqual([false]);
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    });

    it("requeues for a retry: delayed, then delivered with the new attempt", async (ctx) => {
      if (lacks(ctx, "delays")) return;
      await broker.enqueue([message()]);
      const [d] = await take();
      const at = Date.now() + 300;
      await broker.settle([
        {
          kind: "requeue",
          delivery: d!,
          attempt: 2,
          executeAt: at,
          lastError: { name: "E", message: "boom" },
        },
      ]);
      expect((await broker.counts("default")).delayed).toBe(1);
      const [again] = await broker.receive(["default"], { max: 1, leaseMs: LEASE });
      expect(again!.message.id).toBe(d!.message.id);
      expect(again!.message.attempt).toBe(2);
      expect(again!.token).not.toBe(d!.token);
    });

    it("rejects: ready again at once with the attempt unchanged, ahead of later messages", async () => {
      const first = message();
      await broker.enqueue([first]);
      const [d] = await take(1);
      await broker.enqueue([message()]);
      await broker.settle([{ kind: "requeue", delivery: d!, attempt: d!.message.attempt }]);
      const got = await take(10);
      expect(got[0]!.message.id).toBe(first.id);
      expect(got[0]!.message.attempt).toBe(1);
      expect(got).toHaveLength(2);
    });

    it("dead-letters with the failure details, oldest first, and honours limit", async () => {
      const a = message({ topic: "a" });
      const b = message({ topic: "b" });
      await broker.enqueue([a, b]);
      const [da, db] = await take(2);
      const err = { name: "TypeError", message: "bad", stack: "TypeError: bad\n  at x", code: "X" };
      expect(await broker.settle([{ kind: "dead", delivery: da!, error: err }])).toEqual([true]);
      await broker.settle([
        { kind: "dead", delivery: db!, error: { name: "E", message: "second" } },
      ]);
      const dead = await broker.deadLetters("default");
      expect(dead.map((x) => x.message.topic)).toEqual(["a", "b"]);
      expect(dead[0]!.error).toEqual(err);
      expect(dead[0]!.failedAt).toBeGreaterThan(0);
      expect(await broker.deadLetters("default", { limit: 1 })).toHaveLength(1);
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 2 });
    });

    it("settles a batch in order, refusing only the stale entries", async () => {
      await broker.enqueue([message(), message(), message()]);
      const [a, b, c] = await take(3);
      await broker.settle([{ kind: "ack", delivery: b! }]);
      expect(
        await broker.settle([
          { kind: "ack", delivery: a! },
          { kind: "ack", delivery: b! },
          { kind: "dead", delivery: c!, error: { name: "E", message: "x" } },
        ]),
      ).toEqual([true, false, true]);
    });

    it("recovers an expired lease: redelivered with stalls + 1; the old holder is fenced off", async () => {
      const m = message();
      await broker.enqueue([m]);
      const [old] = await take(1, ["default"], 200);
      const [fresh] = await broker.receive(["default"], { max: 1, leaseMs: LEASE });
      expect(fresh!.message.id).toBe(m.id);
      expect(fresh!.message.stalls).toBe(1);
      expect(fresh!.message.attempt).toBe(1);
      expect(fresh!.token).not.toBe(old!.token);
      expect(await broker.renew([old!], LEASE)).toEqual([false]);
      expect(await broker.settle([{ kind: "ack", delivery: old! }])).toEqual([false]);
      expect(await broker.settle([{ kind: "ack", delivery: fresh! }])).toEqual([true]);
    });

    it("keeps a renewed lease: nobody else receives the message", async () => {
      await broker.enqueue([message()]);
      const [d] = await take(1, ["default"], 1000);
      // Renewed every 200 ms for 1.2 s in all: without renewals the lease would have expired.
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 200));
        expect(await broker.renew([d!], 1000)).toEqual([true]);
      }
      expect(await take(1)).toEqual([]);
      expect(await broker.settle([{ kind: "ack", delivery: d! }])).toEqual([true]);
    });

    it("dead-letters a message whose lease keeps expiring (STALLED) instead of looping", async () => {
      const b = await open({ maxStalls: 1 });
      await b.declareQueue("default");
      await b.enqueue([message({ id: "stall" })]);
      await b.receive(["default"], { max: 1, leaseMs: 150 });
      const [second] = await b.receive(["default"], { max: 1, leaseMs: 150 });
      expect(second!.message.stalls).toBe(1);
      await waitFor(async () => (await b.counts("default")).dead === 1);
      const [dead] = await b.deadLetters("default");
      expect(dead!.message.id).toBe("stall");
      expect(dead!.error.code).toBe("STALLED");
    });

    it("resets stalls when a settlement is applied: a retried message starts clean", async () => {
      const b = await open({ maxStalls: 1 });
      await b.declareQueue("default");
      await b.enqueue([message({ id: "r", retries: 5 })]);
      for (let attempt = 1; attempt <= 3; attempt++) {
        await b.receive(["default"], { max: 1, leaseMs: 150 });
        const [again] = await b.receive(["default"], { max: 1, leaseMs: LEASE });
        expect([again!.message.id, again!.message.attempt, again!.message.stalls]).toEqual([
          "r",
          attempt,
          1,
        ]);
        expect(
          await b.settle([{ kind: "requeue", delivery: again!, attempt: attempt + 1 }]),
        ).toEqual([true]);
      }
      const [clean] = await b.receive(["default"], { max: 1, leaseMs: LEASE });
      expect([clean!.message.attempt, clean!.message.stalls]).toEqual([4, 0]);
      expect((await b.counts("default")).dead).toBe(0);
    });

    it("resets stalls on every applied settlement: a retried or rescheduled run starts clean (issue 9.3)", async (ctx) => {
      if (lacks(ctx, "schedules")) return;
      const b = await open({ maxStalls: 1 });
      await b.declareQueue("default");
      const everyMs = 3_600_000;
      await b.enqueue([message({ id: "p", schedule: { everyMs } })]);
      // Each run stalls once (its worker "crashed"), then the next holder reschedules it.
      for (let run = 1; run <= 3; run++) {
        await b.receive(["default"], { max: 1, leaseMs: 150 });
        const [again] = await b.receive(["default"], { max: 1, leaseMs: LEASE });
        expect(again!.message.id).toBe("p");
        expect(again!.message.stalls).toBe(1);
        // Requeued as ready (executeAt in the past) so the next round can take it at once.
        expect(
          await b.settle([{ kind: "requeue", delivery: again!, attempt: 1, executeAt: 0 }]),
        ).toEqual([true]);
      }
      const [clean] = await b.receive(["default"], { max: 1, leaseMs: LEASE });
      expect(clean!.message.stalls).toBe(0);
      expect((await b.counts("default")).dead).toBe(0);
    });

    it("replaces a periodic message's definition when it is enqueued again (issue 9.6)", async (ctx) => {
      if (lacks(ctx, "schedules")) return;
      const later = Date.now() + 3_600_000;
      const first = message({
        id: "periodic",
        schedule: { cron: "*/2 * * * * *" },
        executeAt: later,
      });
      expect(await broker.enqueue([first])).toEqual([{ id: "periodic", created: true }]);
      const soon = Date.now() - 1;
      const second = message({
        id: "periodic",
        schedule: { cron: "0 0 2 * * *" },
        executeAt: soon,
        payload: JSON.stringify({ n: 2 }),
      });
      expect(await broker.enqueue([second])).toEqual([{ id: "periodic", created: false }]);
      expect(await broker.counts("default")).toMatchObject({ ready: 1, delayed: 0 });
      const listed = await broker.schedules("default");
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({
        id: "periodic",
        queue: "default",
        topic: "actor",
        schedule: { cron: "0 0 2 * * *" },
        state: "ready",
      });
      // Declared again with the same schedule (a service restarting): it keeps its run time.
      await broker.enqueue([{ ...second, executeAt: Date.now() + 3_600_000 }]);
      expect(await broker.counts("default")).toMatchObject({ ready: 1, delayed: 0 });
      const [d] = await take(1);
      expect(d!.message.schedule).toEqual({ cron: "0 0 2 * * *" });
      expect(d!.message.payload).toBe(JSON.stringify({ n: 2 }));
      // A non-periodic message with an existing id is still left alone.
      const plain = message({ id: "plain" });
      await broker.enqueue([plain]);
      expect(await broker.enqueue([{ ...plain, payload: "9" }])).toEqual([
        { id: "plain", created: false },
      ]);
      expect(await broker.schedules("default")).toHaveLength(1);
    });

    it("a periodic message replaced while running keeps the new definition after its settlement", async (ctx) => {
      if (lacks(ctx, "schedules")) return;
      await broker.enqueue([message({ id: "p", schedule: { everyMs: 1000 } })]);
      const [d] = await take(1);
      await broker.enqueue([message({ id: "p", schedule: { everyMs: 5000 }, payload: "7" })]);
      expect((await broker.schedules("default"))[0]).toMatchObject({ state: "running" });
      expect(
        await broker.settle([{ kind: "requeue", delivery: d!, attempt: 1, executeAt: 0 }]),
      ).toEqual([true]);
      const [next] = await take(1);
      expect(next!.message.schedule).toEqual({ everyMs: 5000 });
      expect(next!.message.payload).toBe("7");
    });

    it("removes a schedule in any state; a running one is then not settled", async (ctx) => {
      if (lacks(ctx, "schedules")) return;
      const future = Date.now() + 3_600_000;
      await broker.enqueue([
        message({ id: "a", schedule: { everyMs: 1000 } }),
        message({ id: "b", schedule: { everyMs: 1000 }, executeAt: future }),
        message({ id: "c", schedule: { everyMs: 1000 } }),
      ]);
      const [a] = await take(1);
      expect(a!.message.id).toBe("a");
      expect((await broker.schedules("default")).map((s) => [s.id, s.state])).toEqual([
        ["a", "running"],
        ["b", "delayed"],
        ["c", "ready"],
      ]);
      expect(await broker.removeSchedule("default", "a")).toBe(true);
      expect(await broker.removeSchedule("default", "b")).toBe(true);
      expect(await broker.removeSchedule("default", "c")).toBe(true);
      expect(await broker.removeSchedule("default", "c")).toBe(false);
      expect(await broker.schedules("default")).toEqual([]);
      expect(
        await broker.settle([{ kind: "requeue", delivery: a!, attempt: 1, executeAt: 0 }]),
      ).toEqual([false]);
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    });

    it("recovers a consumer's leases once its heartbeat expires, long before the lease (issue 9.7)", async () => {
      await broker.enqueue([message({ id: "held-by-dead" }), message({ id: "held-by-live" })]);
      await broker.heartbeat("dead-consumer", ["default"], 300);
      await broker.heartbeat("live-consumer", ["default"], 60_000);
      await broker.heartbeat("other", ["default"], 60_000);
      const [a] = await broker.receive(["default"], {
        max: 1,
        leaseMs: LEASE,
        consumer: "dead-consumer",
      });
      const [b] = await broker.receive(["default"], {
        max: 1,
        leaseMs: LEASE,
        consumer: "live-consumer",
      });
      expect([a!.message.id, b!.message.id]).toEqual(["held-by-dead", "held-by-live"]);
      // The dead consumer never heartbeats again; its message comes back with a stall counted.
      const [again] = await broker.receive(["default"], {
        max: 1,
        leaseMs: LEASE,
        consumer: "other",
      });
      expect(again!.message.id).toBe("held-by-dead");
      expect(again!.message.stalls).toBe(1);
      expect(await broker.settle([{ kind: "ack", delivery: a! }])).toEqual([false]);
      // The live consumer's long job is never taken from it (nor the new holder's).
      expect(await broker.counts("default")).toMatchObject({ ready: 0, running: 2 });
      expect(await broker.settle([{ kind: "ack", delivery: again! }])).toEqual([true]);
      expect(await broker.renew([b!], LEASE)).toEqual([true]);
      expect(await broker.settle([{ kind: "ack", delivery: b! }])).toEqual([true]);
    });

    it("a heartbeat removed with ttl 0 ends the consumer's leases at once", async () => {
      await broker.enqueue([message({ id: "m" })]);
      await broker.heartbeat("c1", ["default"], 60_000);
      await broker.receive(["default"], { max: 1, leaseMs: LEASE, consumer: "c1" });
      await broker.heartbeat("c1", ["default"], 0);
      await waitFor(async () => (await broker.counts("default")).ready === 1);
      const [d] = await take(1);
      expect(d!.message.stalls).toBe(1);
    });

    it("never hands one message to two concurrent receivers", async () => {
      const n = 600;
      await broker.enqueue(Array.from({ length: n }, () => message()));
      const seen: string[] = [];
      const receiver = async (): Promise<void> => {
        for (;;) {
          const got = await take(7);
          if (got.length === 0) return;
          seen.push(...got.map((d) => d.message.id));
          await broker.settle(got.map((d) => ({ kind: "ack" as const, delivery: d })));
        }
      };
      await Promise.all([receiver(), receiver(), receiver(), receiver()]);
      expect(seen).toHaveLength(n);
      expect(new Set(seen).size).toBe(n);
    });

    it("flush removes every message, dead letters included, and keeps the queue", async () => {
      await broker.enqueue([message(), message({ executeAt: Date.now() + 60_000 }), message()]);
      const [d] = await take(1);
      await broker.settle([{ kind: "dead", delivery: d!, error: { name: "E", message: "x" } }]);
      await broker.flushQueue("default");
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
      expect(await broker.queueExists("default")).toBe(true);
      expect(await take()).toEqual([]);
    });

    it("delete removes the queue: enqueueing fails until declared again", async () => {
      await broker.enqueue([message()]);
      await broker.deleteQueue("default");
      expect(await broker.queueExists("default")).toBe(false);
      await expect(broker.enqueue([message()])).rejects.toBeInstanceOf(QueueNotDeclaredError);
      await broker.declareQueue("default");
      expect((await broker.counts("default")).ready).toBe(0);
    });

    it("stores and delivers a message's expiresAt unchanged, also after a retry", async () => {
      const expiresAt = Date.now() + 3_600_000;
      const m = message({ expiresAt, headers: { tenant: "t1" } });
      await broker.enqueue([m]);
      const [d] = await take(1);
      expect(d!.message).toMatchObject({ id: m.id, expiresAt, headers: { tenant: "t1" } });
      await broker.settle([{ kind: "requeue", delivery: d!, attempt: 2 }]);
      const [again] = await take(1);
      expect(again!.message).toMatchObject({ id: m.id, attempt: 2, expiresAt });
    });

    it("keeps an id taken for its dedupe window, also after its message ended; the window ends", async (ctx) => {
      if (lacks(ctx, "dedupe")) return;
      const once = (): OutgoingMessage => message({ id: "once", dedupeMs: 60_000 });
      // Twice in one call: the second finds the first.
      expect(await broker.enqueue([once(), once()])).toEqual([
        { id: "once", created: true },
        { id: "once", created: false },
      ]);
      const [d] = await take(1);
      await broker.settle([{ kind: "ack", delivery: d! }]);
      expect(await broker.enqueue([once()])).toEqual([{ id: "once", created: false }]);
      expect((await broker.counts("default")).ready).toBe(0);
      // Without a window an id is free once its message ended, as before.
      expect(await broker.enqueue([message({ id: "once" })])).toEqual([
        { id: "once", created: true },
      ]);
      const [again] = await take(1);
      await broker.settle([{ kind: "ack", delivery: again! }]);
      // A short window ends.
      expect(await broker.enqueue([message({ id: "brief", dedupeMs: 100 })])).toEqual([
        { id: "brief", created: true },
      ]);
      const [brief] = await take(1);
      await broker.settle([{ kind: "ack", delivery: brief! }]);
      await waitFor(async () => {
        const [outcome] = await broker.enqueue([message({ id: "brief", dedupeMs: 100 })]);
        return outcome!.created;
      });
    });

    it("debounce: an enqueue of a waiting id replaces it and moves its start; one of a running id runs after it", async (ctx) => {
      if (lacks(ctx, "debounce")) return;
      const bounce = (n: number, ms: number): OutgoingMessage =>
        message({
          id: "bounce",
          payload: JSON.stringify({ n }),
          debounceMs: ms,
          executeAt: Date.now() + ms,
        });
      expect(await broker.enqueue([bounce(1, 60_000)])).toEqual([{ id: "bounce", created: true }]);
      expect(await broker.enqueue([bounce(2, 60_000)])).toEqual([{ id: "bounce", created: false }]);
      // The last one, moved to its due time: one message, still delayed.
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 1, running: 0, dead: 0 });
      expect(await broker.enqueue([bounce(3, 150)])).toEqual([{ id: "bounce", created: false }]);
      const [d] = await take(1);
      expect(JSON.parse(d!.message.payload!)).toEqual({ n: 3 });
      // Enqueued while it runs: kept, and it is the job's next run once this one is settled.
      expect(await broker.enqueue([bounce(4, 50)])).toEqual([{ id: "bounce", created: false }]);
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 1, dead: 0 });
      expect(await broker.settle([{ kind: "ack", delivery: d! }])).toEqual([true]);
      const [next] = await take(1);
      expect(next!.message).toMatchObject({ id: "bounce", attempt: 1 });
      expect(JSON.parse(next!.message.payload!)).toEqual({ n: 4 });
      await broker.settle([{ kind: "ack", delivery: next! }]);
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    });

    it("stores a result with the ack and wakes a waiter without polling", async (ctx) => {
      if (lacks(ctx, "results")) return;
      const m = message({ resultTtlMs: 60_000 });
      await broker.enqueue([m]);
      const waiting = broker.waitForResult(m.id, { timeoutMs: 10_000 });
      const [d] = await take(1);
      const stored = { ok: true as const, value: '{"sum":3}', finishedAt: Date.now() };
      await broker.settle([{ kind: "ack", delivery: d!, result: { stored, ttlMs: 60_000 } }]);
      expect(await waiting).toEqual(stored);
      expect(await broker.readResult(m.id)).toEqual(stored);
    });

    it("reads a result stored before anyone waited, and a failure result with the dead letter", async (ctx) => {
      if (lacks(ctx, "results")) return;
      const m = message();
      await broker.enqueue([m]);
      const [d] = await take(1);
      const stored = {
        ok: false as const,
        error: { name: "Error", message: "nope" },
        attempts: 1,
        finishedAt: Date.now(),
      };
      await broker.settle([
        { kind: "dead", delivery: d!, error: stored.error, result: { stored, ttlMs: 60_000 } },
      ]);
      expect(await broker.waitForResult(m.id, { timeoutMs: 1000 })).toEqual(stored);
    });

    it("gives up waiting for a result after the timeout", async (ctx) => {
      if (lacks(ctx, "results")) return;
      expect(await broker.waitForResult("never", { timeoutMs: 100 })).toBeUndefined();
      expect(await broker.readResult("never")).toBeUndefined();
    });

    it("expires a result after its time to live", async (ctx) => {
      if (lacks(ctx, "results")) return;
      await broker.enqueue([message({ id: "ttl" })]);
      const [d] = await take(1);
      await broker.settle([
        {
          kind: "ack",
          delivery: d!,
          result: { stored: { ok: true, value: "1", finishedAt: 0 }, ttlMs: 100 },
        },
      ]);
      await waitFor(async () => (await broker.readResult("ttl")) === undefined);
      expect(await broker.readResult("ttl")).toBeUndefined();
    });

    it("refuses what it declares it lacks, with NotSupportedError", async (ctx) => {
      const caps = capabilitiesOf(broker);
      if (caps.uniqueIds && caps.schedules && caps.results) return ctx.skip();
      const refused = async (p: Promise<unknown>): Promise<void> => {
        const error = await p.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(NotSupportedError);
        expect((error as NotSupportedError).code).toBe("NOT_SUPPORTED");
      };
      if (!caps.uniqueIds) {
        const m = message({ id: "twice" });
        expect(await broker.enqueue([m, m])).toEqual([
          { id: "twice", created: true },
          { id: "twice", created: true },
        ]);
        expect((await broker.counts("default")).ready).toBe(2);
      }
      if (!caps.schedules) {
        await refused(broker.enqueue([message({ schedule: { everyMs: 1000 } })]));
        await refused(broker.schedules("default"));
        await refused(broker.removeSchedule("default", "x"));
      }
      if (!caps.results) {
        await refused(broker.readResult("x"));
        await refused(broker.waitForResult("x", { timeoutMs: 10 }));
      }
    });
  });
}

/**
 * The admin operations of the broker contract (`broker.admin`), run unchanged against every
 * broker that has them (in-memory.test.ts, redis-contract.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { capabilitiesOf, type BrokerAdmin } from "repid/broker";
import type { Delivery, MessageBroker } from "repid/broker";
import {
  Admin,
  Connection,
  Job,
  Queue,
  Repid,
  Worker,
  silentLogger,
  type ActorContext,
} from "repid";
import { message, waitFor, type BrokerFactory } from "./contract.js";

const LEASE = 60_000;

export function describeAdminContract(name: string, factory: BrokerFactory): void {
  describe(`broker admin contract: ${name}`, () => {
    let broker: MessageBroker;
    let admin: BrokerAdmin;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      const made = await factory({});
      broker = made.broker;
      cleanup = made.cleanup;
      await broker.connect();
      admin = broker.admin!;
      expect(admin).toBeDefined();
      await broker.declareQueue("default");
      await broker.declareQueue("other");
    });

    afterEach(async () => {
      await broker.deleteQueue("default");
      await broker.deleteQueue("other");
      await cleanup();
    });

    async function take(max = 100, queues = ["default"]): Promise<Delivery[]> {
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), 300);
      try {
        return await broker.receive(queues, { max, leaseMs: LEASE, signal: ac.signal });
      } finally {
        clearTimeout(t);
      }
    }

    async function bury(ids: string[]): Promise<void> {
      await broker.enqueue(ids.map((id) => message({ id })));
      for (const d of await take(ids.length)) {
        await broker.settle([
          {
            kind: "dead",
            delivery: d,
            error: { name: "Error", message: `failed ${d.message.id}` },
          },
        ]);
      }
    }

    it("lists declared queues with their counts and pause flag", async () => {
      await broker.enqueue([message(), message({ queue: "other" })]);
      await admin.pause("other");
      const listed = (await admin.queues()).filter(
        (q) => q.name === "default" || q.name === "other",
      );
      expect(listed).toEqual([
        { name: "default", paused: false, counts: { ready: 1, delayed: 0, running: 0, dead: 0 } },
        { name: "other", paused: true, counts: { ready: 1, delayed: 0, running: 0, dead: 0 } },
      ]);
    });

    it("pages through messages by state, in order, with a cursor", async () => {
      const later = Date.now() + 3_600_000;
      await broker.enqueue([
        message({ id: "low", priority: 2 }),
        message({ id: "high", priority: 0 }),
        message({ id: "mid-1" }),
        message({ id: "mid-2" }),
        message({ id: "late", executeAt: later + 1000 }),
        message({ id: "soon", executeAt: later }),
      ]);
      const first = await admin.jobs("default", "ready", { limit: 3 });
      expect(first.items.map((j) => j.message.id)).toEqual(["high", "mid-1", "mid-2"]);
      expect(first.next).toBeDefined();
      const second = await admin.jobs("default", "ready", { limit: 3, cursor: first.next! });
      expect(second.items.map((j) => j.message.id)).toEqual(["low"]);
      expect(second.next).toBeUndefined();
      const delayed = await admin.jobs("default", "delayed");
      expect(delayed.items.map((j) => [j.message.id, j.state])).toEqual([
        ["soon", "delayed"],
        ["late", "delayed"],
      ]);
      const [running] = await take(1);
      const held = await admin.jobs("default", "running");
      expect(held.items.map((j) => j.message.id)).toEqual([running!.message.id]);
      expect(held.items[0]!.leaseUntil).toBeGreaterThan(Date.now());
    });

    it("looks a job up by id in every state, dead letters with their error", async () => {
      await bury(["gone-wrong"]);
      await broker.enqueue([message({ id: "waiting" })]);
      expect(await admin.job("default", "waiting")).toMatchObject({
        state: "ready",
        message: { id: "waiting", attempt: 1 },
      });
      const dead = await admin.job("default", "gone-wrong");
      expect(dead).toMatchObject({ state: "dead", error: { message: "failed gone-wrong" } });
      expect(dead!.failedAt).toBeGreaterThan(0);
      expect(await admin.job("default", "nobody")).toBeUndefined();
    });

    it("cancels: a waiting or delayed job is removed; a running one is flagged to its holder's renewal", async () => {
      await broker.enqueue([
        message({ id: "run" }),
        message({ id: "wait" }),
        message({ id: "later", executeAt: Date.now() + 3_600_000 }),
      ]);
      const [running] = await take(1);
      expect(running!.message.id).toBe("run");
      expect(await admin.cancel("default", "wait")).toBe("removed");
      expect(await admin.cancel("default", "later")).toBe("removed");
      expect(await admin.cancel("default", "nobody")).toBe("not-found");
      expect(await admin.cancel("default", "run", "dead")).toBe("cancelling");
      expect(await admin.job("default", "run")).toMatchObject({
        state: "running",
        cancelling: true,
      });
      expect(await broker.renew([running!], LEASE)).toEqual([{ cancelled: "dead" }]);
      expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 1, dead: 0 });
    });

    it("a cancel mark goes with its message: a new message under the id of a removed running periodic job is not cancelled", async (ctx) => {
      if (!capabilitiesOf(broker).schedules) return ctx.skip();
      await broker.enqueue([message({ id: "tick", schedule: { everyMs: 60_000 } })]);
      const [first] = await take(1);
      expect(first!.message.id).toBe("tick");
      expect(await admin.cancel("default", "tick", "dead")).toBe("cancelling");
      expect(await broker.removeSchedule("default", "tick")).toBe(true);
      await broker.enqueue([message({ id: "tick" })]);
      const [second] = await take(1);
      expect(second!.message.id).toBe("tick");
      expect(await broker.renew([second!], LEASE)).toEqual([true]);
      const job = await admin.job("default", "tick");
      expect(job?.state).toBe("running");
      expect(job?.cancelling ?? false).toBe(false);
    });

    it("replays dead letters (one or all) to ready with attempt 1, and deletes them", async () => {
      await bury(["a", "b", "c", "d"]);
      expect(await admin.replay("default", ["b"])).toBe(1);
      const [b] = await take(1);
      expect(b!.message).toMatchObject({ id: "b", attempt: 1, stalls: 0 });
      // A dead letter whose id is taken by a live message stays dead.
      await broker.enqueue([message({ id: "c" })]);
      expect(await admin.replay("default")).toBe(2);
      expect((await admin.jobs("default", "dead")).items.map((j) => j.message.id)).toEqual(["c"]);
      expect(await admin.deleteDead("default", ["c"])).toBe(1);
      expect(await admin.deleteDead("default")).toBe(0);
      expect(await broker.counts("default")).toMatchObject({ dead: 0, ready: 3, running: 1 });
    });

    it("a paused queue delivers nothing until resumed; producers still enqueue", async () => {
      await admin.pause("default");
      await broker.enqueue([
        message({ id: "held-back" }),
        message({ id: "other-q", queue: "other" }),
      ]);
      expect((await take(10, ["default", "other"])).map((d) => d.message.id)).toEqual(["other-q"]);
      const waiting = broker.receive(["default"], { max: 1, leaseMs: LEASE });
      await admin.resume("default");
      expect((await waiting).map((d) => d.message.id)).toEqual(["held-back"]);
    });

    it("cancelling a running job aborts ctx.signal on its worker; it ends dead-lettered CANCELLED, never retried", async () => {
      const app = new Repid(new Connection(broker, { logger: silentLogger }));
      let runs = 0;
      let reason: unknown;
      const worker = new Worker({ leaseTime: "3s", handleSignals: [] });
      worker.actor(async function cancellable(_args: unknown, ctx: ActorContext) {
        runs++;
        reason = await new Promise((resolve) =>
          ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason)),
        );
        throw reason;
      });
      const running = app.magic(async () => {
        await new Job("cancellable", { id: "cancel-me", retries: 3 }).enqueue();
        return worker.run();
      });
      await waitFor(() => runs === 1);
      const ops = new Admin(app.connection);
      expect(await ops.cancel("default", "cancel-me")).toBe("cancelling");
      await waitFor(async () => (await broker.counts("default")).dead === 1);
      worker.stop();
      const runner = await running;
      expect(runs).toBe(1);
      expect((reason as Error).name).toBe("JobCancelledError");
      expect(runner).toMatchObject({ deadLettered: 1, retried: 0 });
      const [dead] = await broker.deadLetters("default");
      expect(dead!.error.code).toBe("CANCELLED");
      expect(await new Queue("default", { connection: app.connection }).counts()).toMatchObject({
        ready: 0,
        delayed: 0,
        running: 0,
      });
    });
  });
}

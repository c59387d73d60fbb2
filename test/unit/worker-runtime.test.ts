/**
 * Issue 9: the worker keeps its promises under limits, slow or failing brokers, dying threads,
 * long durations and blocked event loops. Each test failed before its fix.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Delivery, OutgoingMessage, Settlement } from "../../src/brokers/broker.js";
import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { Connection, Job, Queue, Repid, Worker, type ActorContext } from "../../src/index.js";
import { syncRouter } from "../fixtures/sync-actors.js";
import { memoryApp, recordingLogger, waitFor } from "../helpers.js";

/** An in-memory broker with injectable faults on renew and settle (a real broker underneath). */
class FaultyBroker extends InMemoryMessageBroker {
  renewCalls = 0;
  renewInFlight = 0;
  maxRenewInFlight = 0;
  renewDelayMs = 0;
  renewFails = false;
  settleDelayMs = 0;
  settleFailures = 0;

  override async renew(deliveries: readonly Delivery[], leaseMs: number) {
    this.renewCalls++;
    this.renewInFlight++;
    this.maxRenewInFlight = Math.max(this.maxRenewInFlight, this.renewInFlight);
    try {
      if (this.renewDelayMs) await new Promise((r) => setTimeout(r, this.renewDelayMs));
      if (this.renewFails) throw new Error("injected renew failure");
      return await super.renew(deliveries, leaseMs);
    } finally {
      this.renewInFlight--;
    }
  }

  override async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    if (this.settleFailures > 0) {
      this.settleFailures--;
      throw new Error("injected settle failure");
    }
    if (this.settleDelayMs) await new Promise((r) => setTimeout(r, this.settleDelayMs));
    return super.settle(settlements);
  }
}

function faultyApp(logger = recordingLogger()) {
  const broker = new FaultyBroker({ leaseCheckIntervalMs: 20 });
  const connection = new Connection(broker, { logger });
  return { app: new Repid(connection), broker, logger };
}

describe("worker runtime (issue 9)", () => {
  it("9.2 messagesLimit only stops receiving: a long job runs to completion, once", async () => {
    const { app } = memoryApp();
    let runs = 0;
    const worker = new Worker({ messagesLimit: 1, gracefulShutdownTime: "200ms" });
    worker.actor(async function long() {
      runs++;
      await new Promise((r) => setTimeout(r, 600));
    });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      await new Job("long").enqueue();
      return worker.run();
    });
    expect(runner).toMatchObject({ processed: 1, succeeded: 1, rejected: 0 });
    expect(runs).toBe(1);
    expect(await app.magic(() => new Queue().counts())).toEqual({
      ready: 0,
      delayed: 0,
      running: 0,
      dead: 0,
    });
  });

  it("9.4 a thread that died after its actor returned is replaced before the next job, and its error is logged", async () => {
    const logger = recordingLogger();
    const { app } = memoryApp(logger);
    const worker = new Worker({ routers: [syncRouter], threads: 1, concurrency: 1 });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      await new Job("lateThrow").enqueue();
      // The late throw fires around this one in the same thread; before the fix, the thread
      // died and the next job was sent to it and hung until its timeout.
      await new Job("spin", { args: { ms: 100 }, timeout: "10s" }).enqueue();
      await new Job("whereAmI", { timeout: "10s" }).enqueue();
      const running = worker.run();
      await waitFor(
        () => logger.lines.some((l) => l.level === "error" && /late throw/.test(l.message)),
        20_000,
      );
      await waitFor(async () => {
        const counts = await new Queue().counts();
        return counts.ready + counts.running + counts.delayed === 0;
      }, 20_000);
      worker.stop();
      return running;
    });
    expect(runner).toMatchObject({ processed: 3, succeeded: 3, deadLettered: 0 });
  });

  it("9.4 a sync job's timeout counts from its start on a thread, not from its wait for one", async () => {
    const { app } = memoryApp();
    const worker = new Worker({
      routers: [syncRouter],
      threads: 1,
      concurrency: 3,
      messagesLimit: 3,
    });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      for (let i = 0; i < 3; i++)
        await new Job("spin", { args: { ms: 400 }, timeout: "900ms", retries: 0 }).enqueue();
      return worker.run();
    });
    expect(runner).toMatchObject({ processed: 3, succeeded: 3, deadLettered: 0 });
  });

  it("9.4 ctx.signal aborts inside a thread on timeout", async () => {
    const { app } = memoryApp();
    const file = join(mkdtempSync(join(tmpdir(), "repid-abort-")), "reason");
    const worker = new Worker({ routers: [syncRouter], threads: 1, messagesLimit: 1 });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      await new Job("waitsForAbort", { args: { file }, timeout: "300ms", retries: 0 }).enqueue();
      return worker.run();
    });
    expect(runner).toMatchObject({ processed: 1, deadLettered: 1 });
    await waitFor(() => existsSync(file));
    expect(readFileSync(file, "utf8")).toBe("JobTimeoutError");
  });

  it("warns once when an actor not declared async returns a Promise (it ran in a thread)", async () => {
    const logger = recordingLogger();
    const { app } = memoryApp(logger);
    const worker = new Worker({ routers: [syncRouter], threads: 1, messagesLimit: 2 });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      await new Job("returnsPromise").enqueue();
      await new Job("returnsPromise").enqueue();
      return worker.run();
    });
    expect(runner).toMatchObject({ processed: 2, succeeded: 2 });
    const warned = logger.lines.filter((l) => /returnsPromise/.test(l.message));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.level).toBe("warn");
    expect(warned[0]!.message).toMatch(/async/);
  });

  it("9.5 renewals never overlap, even when the broker is slower than the renewal interval", async () => {
    const { app, broker } = faultyApp();
    // Renewals every 200 ms, each taking 300 ms: without a guard they would overlap.
    broker.renewDelayMs = 300;
    const worker = new Worker({ leaseTime: "600ms", messagesLimit: 1 });
    worker.actor(async function slow() {
      await new Promise((r) => setTimeout(r, 1500));
    });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      await new Job("slow").enqueue();
      return worker.run();
    });
    expect(broker.renewCalls).toBeGreaterThan(1);
    expect(broker.maxRenewInFlight).toBe(1);
    expect(runner).toMatchObject({ processed: 1, succeeded: 1 });
  });

  it("9.5 a delivery whose settlement is in flight stays renewed until it is applied: the job runs once", async () => {
    const { app, broker } = faultyApp();
    broker.settleDelayMs = 900;
    let runs = 0;
    const worker = new Worker({ leaseTime: "300ms", messagesLimit: 1 });
    worker.actor(async function quick() {
      runs++;
    });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      await new Job("quick").enqueue();
      return worker.run();
    });
    expect(runner).toMatchObject({ processed: 1, succeeded: 1 });
    expect(runs).toBe(1);
    expect((await app.magic(() => new Queue().counts())).ready).toBe(0);
  });

  it("9.5 a failing renewal is logged and never taken for success: the attempt ends when its lease runs out", async () => {
    const { app, broker, logger } = faultyApp();
    broker.renewFails = true;
    let reason: unknown;
    const worker = new Worker({ leaseTime: "300ms", messagesLimit: 1, gracefulShutdownTime: "5s" });
    worker.actor(async function waits(_args: undefined, ctx: ActorContext) {
      reason = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve("not aborted"), 3000);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(ctx.signal.reason);
        });
      });
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("waits").enqueue();
      await worker.run();
    });
    expect((reason as Error).message).toMatch(/lease/i);
    expect(logger.lines.some((l) => l.level === "error" && /renew/i.test(l.message))).toBe(true);
  });

  it("9.5 a settlement that fails is retried while the lease is kept: applied once, no rerun", async () => {
    const { app, broker, logger } = faultyApp();
    broker.settleFailures = 2;
    let runs = 0;
    const worker = new Worker({ leaseTime: "300ms", messagesLimit: 1 });
    worker.actor(async function once() {
      runs++;
    });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      await new Job("once").enqueue();
      return worker.run();
    });
    expect(runs).toBe(1);
    expect(runner).toMatchObject({ processed: 1, succeeded: 1 });
    expect((await app.magic(() => new Queue().counts())).ready).toBe(0);
    expect(logger.lines.filter((l) => /settling messages failed/.test(l.message))).toHaveLength(2);
  });

  it("9.8 an error after the actor ran ends the attempt with a settlement carrying that error", async () => {
    const { app, broker } = memoryApp();
    let runs = 0;
    const worker = new Worker({ messagesLimit: 1 });
    worker.actor(async function periodic() {
      runs++;
    });
    await app.magic(() => new Queue().declare());
    // A stored schedule that no longer parses (written by an older or foreign producer).
    const bad: OutgoingMessage = {
      id: "bad-schedule",
      queue: "default",
      topic: "periodic",
      payload: undefined,
      priority: 1,
      retries: 0,
      timeoutMs: 10_000,
      schedule: { cron: "not a cron" },
    };
    await broker.enqueue([bad]);
    const runner = await app.magic(() => worker.run());
    expect(runs).toBe(1);
    expect(runner.deadLettered).toBe(1);
    const [dead] = await broker.deadLetters("default");
    expect(dead!.message.id).toBe("bad-schedule");
    expect(dead!.error.code).not.toBe("STALLED");
    expect(dead!.error.message).toMatch(/cron|schedule|pattern/i);
  });

  it("9.9 durations past 2^31-1 ms never fire early: thread timeout, result wait, grace period", async () => {
    const { app } = memoryApp();
    const worker = new Worker({
      routers: [syncRouter],
      threads: 1,
      messagesLimit: 2,
      gracefulShutdownTime: "30d",
    });
    worker.actor(async function later() {
      await new Promise((r) => setTimeout(r, 300));
      return "done";
    });
    const { runner, value } = await app.magic(async () => {
      await new Queue().declare();
      const handle = await new Job("later", { storeResult: true }).enqueue();
      const waiting = handle.result({ timeout: "30d" });
      await new Job("spin", { args: { ms: 5 }, timeout: "30d" }).enqueue();
      const running = worker.run();
      // A stop during the 300 ms job: the 30-day grace period must not cut it short.
      setTimeout(() => worker.stop(), 100);
      return { runner: await running, value: await waiting };
    });
    expect(value).toBe("done");
    expect(runner).toMatchObject({ processed: 2, succeeded: 2, rejected: 0 });
  });

  it("9.10 a lease lost to a blocked event loop is logged once, with the job, actor and lag", async () => {
    const logger = recordingLogger();
    const { app } = memoryApp(logger);
    const worker = new Worker({ leaseTime: "200ms", messagesLimit: 1 });
    worker.actor(async function blocksLoop() {
      const until = Date.now() + 800;
      while (Date.now() < until);
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("blocksLoop", { id: "blocker" }).enqueue();
      await worker.run();
    });
    const lost = logger.lines.filter(
      (l) => /lease/i.test(l.message) && /blocksLoop/.test(l.message),
    );
    expect(lost).toHaveLength(1);
    expect(lost[0]!.level).toBe("warn");
    expect(lost[0]!.message).toMatch(/blocker/);
    expect(lost[0]!.message).toMatch(/event loop/i);
  });
});

/**
 * One `Worker.run()`. Its concurrency rules, which the code below keeps:
 *
 * - Slots: at most `concurrency` attempts run at once (`#running`). A slot is freed the moment an
 *   attempt's outcome is known, so the next receive can travel with that settlement. An async
 *   actor aborted (timed out, cancelled) while its body still runs cannot be stopped from
 *   outside: its attempt ends when the body does (warned about after 10 s), keeping its slot,
 *   lease and settlement until then, unless a forced stop lets go of it.
 * - Prefetch: at most `prefetch` more deliveries wait, leased, in `#buffer`, in delivery order.
 *   A receive goes out only when a quarter of slots + prefetch is free (one round trip fetches
 *   many), and only while the run is `receiving`.
 * - Holding: every received delivery is held by the `LeaseKeeper` from its receipt until its
 *   settlement is applied (or refused), or its lease is known lost. Held leases are renewed
 *   every lease/3, one renewal in flight at a time; a lease that is lost aborts its attempt (or
 *   drops it unstarted) and is logged once.
 * - Liveness: before its first receive the run starts a heartbeat under its own consumer id and
 *   names itself on every receive, so a crashed worker's leases end with its heartbeat.
 * - Settlement: every attempt ends with exactly one settlement, also when deciding it throws.
 *   A settlement the broker failed to take is retried while its lease is kept; pending
 *   settlements are sent before each receive.
 * - Ending, a state machine: `receiving` → `draining` when `messagesLimit` is reached (take no
 *   more; everything received runs to completion, no clock) → `stopping` on `stop()` or a
 *   signal, from either state (unstarted deliveries are given back at once, running ones get the
 *   grace period, counted from the stop) → `forced` when the grace period ends or a second
 *   signal comes (running attempts are aborted and given back). The run ends when nothing is
 *   held and no settlement is in flight.
 * - Waiting never races a long-lived promise: every wait is a fresh promise resolved by the next
 *   change (a slot freed, a settlement done, a state change), so nothing accumulates per job.
 */
import { randomUUID } from "node:crypto";
import type { Delivery, KeepAlive, Message, MessageBroker, Settlement } from "../../brokers/broker.js";
import type { JobInfo, LifecycleEvent } from "../../core/hooks.js";
import type { CancelMode } from "../../brokers/admin.js";
import { ActorAbortedError, JobCancelledError, toFailureInfo } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Registry } from "../../core/registry.js";
import type { Actor } from "../router.js";
import type { WorkerRunner } from "../worker.js";
import { Cancellation } from "./cancellation.js";
import {
  execute,
  LeaseLostError,
  type ExecuteDeps,
  type Executed,
  type Outcome,
} from "./execute.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { startLiveness } from "./liveness.js";
import { FailureLog } from "./failure-log.js";
import { jobInfo, SchemaVersions } from "./schema-versions.js";
import type { HookSet } from "../../connection/hook-set.js";
import { ExecutorPool, type ExecutorKind } from "../pool/executor-pool.js";
import { Settler } from "./settler.js";
import { setLongTimeout, type LongTimer } from "../../core/timers.js";

/** What one run of a worker needs, all validated by `Worker`. */
export interface RunSettings {
  readonly actors: ReadonlyMap<string, Actor>;
  readonly registry: Registry | undefined;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly prefetch: number;
  readonly limit: number;
  readonly leaseMs: number;
  readonly graceMs: number;
  readonly threads: number;
  /** Heartbeat time to live; a crashed worker's leases end this long after its last beat. */
  readonly heartbeatMs: number;
  readonly logger: Logger;
  /** The connection's hooks followed by the worker's. */
  readonly hooks: HookSet;
}

/** After a forced stop, how long pending settlements may still be retried. */
const SETTLE_AFTER_FORCE_MS = 2_000;

type Counts = { -readonly [K in keyof WorkerRunner]: number };
type State = "receiving" | "draining" | "stopping" | "forced";

export class WorkerRun {
  readonly #s: RunSettings;
  readonly #broker: MessageBroker;
  readonly #settler: Settler;
  readonly #leases: LeaseKeeper;
  readonly #deps: ExecuteDeps;
  readonly #hooks: HookSet;
  readonly #failures: FailureLog;
  readonly #schemas: SchemaVersions;
  readonly #consumer = randomUUID();
  readonly #pools = new Map<ExecutorKind, ExecutorPool>();
  readonly #counts: Counts = {
    processed: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    rescheduled: 0,
    rejected: 0,
  };
  /** Started attempts by delivery. */
  readonly #running = new Map<Delivery, Cancellation>();
  /** Received ahead of free slots (see `prefetch`), in delivery order. */
  readonly #buffer: Delivery[] = [];
  readonly #listeners: (() => void)[] = [];
  /** Aborts a receive in progress when the run leaves `receiving`. */
  readonly #receiving = new AbortController();
  #state: State = "receiving";
  #grace: LongTimer | undefined;
  #receiveError: unknown;

  constructor(settings: RunSettings, broker: MessageBroker) {
    this.#s = settings;
    this.#broker = broker;
    this.#settler = new Settler(broker, settings.logger);
    this.#leases = new LeaseKeeper(
      broker,
      settings.logger,
      settings.leaseMs,
      (delivery) => this.#lost(delivery),
      (delivery, mode) => this.#cancelled(delivery, mode),
    );
    this.#hooks = settings.hooks;
    this.#failures = new FailureLog(settings.logger);
    this.#schemas = new SchemaVersions(settings.logger, settings.hooks);
    this.#deps = {
      actors: settings.actors,
      registry: settings.registry,
      pools: { thread: () => this.#pool("thread"), process: () => this.#pool("process") },
      hooks: settings.hooks,
      schemas: this.#schemas,
      logger: settings.logger,
      concurrency: settings.concurrency,
    };
  }

  get stopping(): boolean {
    return this.#state === "stopping" || this.#state === "forced";
  }

  /**
   * Why the last receive failed, until the next one starts (for readiness probes; a receive that
   * waits for messages is not a failure, and the broker's own reachability is probed apart).
   */
  get receiveError(): unknown {
    return this.#receiveError;
  }

  /** Stop receiving; running actors get the grace period, counted from now. */
  stop(): void {
    if (this.stopping) return;
    if (this.#state === "receiving") this.#emit({ type: "worker-stopping", reason: "stop" });
    this.#state = "stopping";
    this.#receiving.abort();
    this.#giveBackUnstarted();
    this.#grace = setLongTimeout(() => this.force(), this.#s.graceMs);
    this.#notify();
  }

  /** Abort running actors now (the grace period ended, or a second signal). */
  force(): void {
    if (this.#state === "forced") return;
    if (!this.stopping) this.stop();
    this.#state = "forced";
    this.#grace?.clear();
    for (const cancel of this.#running.values()) {
      cancel.abort(new ActorAbortedError());
      cancel.release();
    }
    // The aborted attempts' give-backs get a moment; a broker that cannot take them then is
    // given up on (those messages come back when their leases expire).
    setTimeout(() => this.#settler.close(), SETTLE_AFTER_FORCE_MS).unref();
    this.#notify();
  }

  async run(): Promise<WorkerRunner> {
    const { queues, heartbeatMs, logger } = this.#s;
    // One timer checks every running attempt's deadline (instead of a timer per job).
    const deadlines = setInterval(() => this.#checkDeadlines(), 10);
    // Renewing leases also keeps the process alive while the worker waits for messages.
    const renewals = setInterval(() => this.#leases.tick(), this.#leases.intervalMs);
    let liveness: KeepAlive | undefined;
    try {
      if (queues.length > 0) {
        liveness = await startLiveness(this.#broker, this.#consumer, queues, heartbeatMs, logger);
      }
      this.#emit({
        type: "worker-started",
        queues,
        consumer: this.#consumer,
        actors: [...this.#s.actors.keys()].sort(),
      });
      await this.#receiveLoop();
      if (this.#state === "receiving") {
        this.#state = "draining";
        this.#emit({ type: "worker-stopping", reason: "limit" });
      }
      // Drained when nothing is held: every delivery ran (or was given back) and is settled.
      await this.#until(() => this.#leases.size === 0 && this.#running.size === 0);
    } finally {
      clearInterval(deadlines);
      clearInterval(renewals);
      this.#grace?.clear();
      this.#settler.close();
      this.#failures.flush();
      this.#schemas.summarize();
      await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
      await liveness
        ?.stop()
        .catch((error: unknown) =>
          logger.warn("repid: removing the worker's heartbeat failed", { error }),
        );
    }
    return { ...this.#counts };
  }

  async #receiveLoop(): Promise<void> {
    const { queues, concurrency, prefetch, limit, leaseMs, logger } = this.#s;
    // No actors, no queues to read: wait for a stop (as repid's bare `Worker().run()` does).
    if (queues.length === 0) return this.#until(() => this.#state !== "receiving");
    // Refill in batches: wait until a quarter of the capacity is free, so that one receive (one
    // round trip) fetches many messages instead of one per finished job.
    const capacity = concurrency + prefetch;
    const refillAt = capacity - Math.max(1, Math.floor(capacity / 4));
    const signal = this.#receiving.signal;
    const consumer = this.#consumer;
    let received = 0;
    while (this.#state === "receiving" && received < limit) {
      const held = this.#running.size + this.#buffer.length;
      if (held > refillAt) {
        await this.#changed();
        continue;
      }
      const max = Math.min(capacity - held, limit - received);
      // Settlements decided so far go out ahead of the receive (after a stall, a receive that
      // recovers expired leases must not overtake this worker's own pending settlements).
      this.#settler.flush();
      const sentAt = Date.now();
      let deliveries: Delivery[];
      this.#receiveError = undefined;
      try {
        deliveries = await this.#broker.receive(queues, { max, leaseMs, signal, consumer });
      } catch (error) {
        this.#receiveError = error;
        logger.error("repid: receiving messages failed; retrying in 1 s", { error });
        await this.#sleep(1000);
        continue;
      }
      // The contract says receive waits; a broker that returns empty anyway must not starve
      // the event loop.
      if (deliveries.length === 0) await new Promise((resolve) => setImmediate(resolve));
      received += deliveries.length;
      this.#leases.add(deliveries, sentAt);
      if (this.stopping) {
        // Received while stopping: give it back at once.
        this.#buffer.push(...deliveries);
        this.#giveBackUnstarted();
        break;
      }
      this.#buffer.push(...deliveries);
      this.#pump();
    }
  }

  /** Prefetched messages go back to the queue at once, attempt unchanged. */
  #giveBackUnstarted(): void {
    for (const delivery of this.#buffer.splice(0)) {
      this.#settle(
        delivery,
        { kind: "requeue", delivery, attempt: delivery.message.attempt },
        "rejected",
      );
    }
  }

  #pump(): void {
    while (
      this.#running.size < this.#s.concurrency &&
      this.#buffer.length > 0 &&
      !this.stopping
    ) {
      void this.#handle(this.#buffer.shift()!);
    }
  }

  async #handle(delivery: Delivery): Promise<void> {
    const cancel = new Cancellation();
    this.#running.set(delivery, cancel);
    const startedAt = Date.now();
    if (this.#hooks.hasEvents) this.#started(delivery.message, startedAt);
    let executed: Executed;
    try {
      executed = await execute(delivery, cancel, this.#deps);
    } catch (error) {
      // execute() settles its own failures; this is a bug, but the message must still end.
      this.#s.logger.error("repid: unexpected error while handling a message", {
        error,
        id: delivery.message.id,
      });
      executed = {
        settlement: { kind: "dead", delivery, error: toFailureInfo(error) },
        outcome: "deadLettered",
        failed: false,
      };
    }
    // The slot is free as soon as the outcome is known: the next receive goes out together
    // with this settlement instead of one round trip after it.
    this.#running.delete(delivery);
    this.#pump();
    if (executed.settlement) {
      this.#settle(delivery, executed.settlement, executed.outcome, executed.failed, startedAt);
    } else {
      this.#leases.release(delivery);
    }
    this.#notify();
  }

  /** Sends a settlement; the delivery stays held (renewed) until it is applied or refused. */
  #settle(
    delivery: Delivery,
    settlement: Settlement,
    outcome: Outcome,
    failed = false,
    startedAt = 0,
  ): void {
    this.#leases.settling(delivery);
    void this.#settler.settle(settlement).then((applied) => {
      const warned = this.#leases.warned(delivery);
      this.#leases.release(delivery);
      if (applied) {
        this.#tally(outcome);
        if (failed) this.#counts.failed++;
        this.#settled(delivery.message, settlement, outcome, startedAt);
      } else if (!warned) {
        this.#s.logger.warn(
          `repid: the settlement of job "${delivery.message.id}" was not applied: its lease was lost (another worker may hold it) or the broker failed (it comes back when its lease expires)`,
          { id: delivery.message.id, actor: delivery.message.topic },
        );
      }
      this.#notify();
    });
  }

  /** Tells hooks about a run that starts. */
  #started(message: Message, now: number): void {
    const job = jobInfo(message);
    const due = Math.max(message.enqueuedAt, message.executeAt ?? 0);
    this.#hooks.emit({ type: "started", job, waitMs: Math.max(0, now - due) });
    if (message.stalls > 0) this.#hooks.emit({ type: "recovered", job, stalls: message.stalls });
    if (message.schedule) this.#hooks.emit({ type: "schedule-fired", job });
  }

  /** Logs failures (always) and tells hooks (when there are any) about an applied settlement. */
  #settled(message: Message, settlement: Settlement, outcome: Outcome, startedAt: number): void {
    const durationMs = startedAt ? Date.now() - startedAt : 0;
    if (settlement.kind === "dead")
      this.#failures.failed("dead-lettered", jobRef(message), settlement.error);
    else if (outcome === "retried" && settlement.kind === "requeue" && settlement.lastError) {
      const at = settlement.executeAt ?? Date.now();
      this.#failures.failed(
        "retried",
        jobRef(message),
        settlement.lastError,
        ` (next attempt in ${Math.max(0, at - Date.now())} ms)`,
      );
    } else if (outcome === "rescheduled" && settlement.kind === "requeue" && settlement.lastError) {
      this.#failures.failed(
        "failed",
        jobRef(message),
        settlement.lastError,
        " (a periodic run; its next run is scheduled)",
      );
    }
    if (!this.#hooks.hasEvents) return;
    const job = jobInfo(message);
    switch (settlement.kind) {
      case "ack":
        return this.#hooks.emit({ type: "succeeded", job, durationMs });
      case "dead":
        return this.#hooks.emit({
          type: "dead-lettered",
          job,
          durationMs,
          error: settlement.error,
        });
      case "requeue":
        if (outcome === "rejected") return this.#hooks.emit({ type: "rejected", job });
        if (outcome === "retried")
          return this.#hooks.emit({
            type: "retried",
            job,
            durationMs,
            error: settlement.lastError ?? { name: "Error", message: "unknown" },
            nextAttemptAt: settlement.executeAt ?? Date.now(),
          });
        return this.#hooks.emit({
          type: "rescheduled",
          job,
          durationMs,
          ...(settlement.lastError ? { error: settlement.lastError } : {}),
        });
    }
  }

  #emit(event: LifecycleEvent): void {
    if (this.#hooks.hasEvents) this.#hooks.emit(event);
  }

  /** The broker refused to renew a lease: abort its attempt, or drop it if it has not started. */
  #lost(delivery: Delivery): void {
    this.#emit({ type: "lease-lost", job: jobInfo(delivery.message) });
    this.#running.get(delivery)?.abort(new LeaseLostError());
    const waiting = this.#buffer.indexOf(delivery);
    if (waiting >= 0) this.#buffer.splice(waiting, 1);
    this.#notify();
  }

  /**
   * An operator cancelled a held job: a running attempt is aborted (and settles as cancelled, see
   * `execute`); an unstarted one is settled at once.
   */
  #cancelled(delivery: Delivery, mode: CancelMode): void {
    const running = this.#running.get(delivery);
    if (running) return running.abort(new JobCancelledError(mode));
    const waiting = this.#buffer.indexOf(delivery);
    if (waiting < 0) return;
    this.#buffer.splice(waiting, 1);
    const error = toFailureInfo(new JobCancelledError(mode));
    this.#settle(
      delivery,
      mode === "ack" ? { kind: "ack", delivery } : { kind: "dead", delivery, error },
      mode === "ack" ? "succeeded" : "deadLettered",
    );
    this.#notify();
  }

  #tally(outcome: Outcome): void {
    if (outcome === "lost") return;
    this.#counts[outcome]++;
    if (outcome !== "rejected") this.#counts.processed++;
  }

  #checkDeadlines(): void {
    const now = Date.now();
    for (const cancel of this.#running.values()) cancel.checkDeadline(now);
  }

  #pool(kind: ExecutorKind): ExecutorPool {
    let pool = this.#pools.get(kind);
    if (!pool)
      this.#pools.set(kind, (pool = new ExecutorPool(kind, this.#s.threads, this.#s.logger)));
    return pool;
  }

  /** Resolves at the next change: a slot freed, a settlement done, a state change. */
  #changed(): Promise<void> {
    return new Promise((resolve) => this.#listeners.push(resolve));
  }

  async #until(condition: () => boolean): Promise<void> {
    while (!condition()) await this.#changed();
  }

  /** Waits `ms`, or less when the run stops meanwhile. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#receiving.signal.removeEventListener("abort", wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#receiving.signal.addEventListener("abort", wake);
    });
  }

  #notify(): void {
    if (this.#listeners.length === 0) return;
    for (const listener of this.#listeners.splice(0)) listener();
  }
}

function jobRef(message: Message): { id: string; actor: string; queue: string; attempt: number } {
  return { id: message.id, actor: message.topic, queue: message.queue, attempt: message.attempt };
}

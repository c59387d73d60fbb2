/**
 * One `Worker.run()`: joins receiving, executing, renewing and settling under the states and
 * rules written in `run-state.ts`.
 */
import { randomUUID } from "node:crypto";
import type { CancelMode } from "../../brokers/admin.js";
import type { Delivery, KeepAlive, MessageBroker, Settlement } from "../../brokers/broker.js";
import type { HookSet } from "../../connection/hook-set.js";
import { ActorAbortedError, JobCancelledError, toFailureInfo } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Registry } from "../../core/registry.js";
import { setLongTimeout, type LongTimer } from "../../core/timers.js";
import { ExecutorPool, type ExecutorKind } from "../pool/executor-pool.js";
import type { Actor } from "../router.js";
import { Cancellation } from "./cancellation.js";
import {
  execute,
  LeaseLostError,
  type ExecuteDeps,
  type Executed,
  type Outcome,
} from "./execute.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { FLOW_HEADER } from "../../core/flow-plan.js";
import { continueFlow } from "./flow-continue.js";
import { startLiveness } from "./liveness.js";
import { receiveLoop } from "./receive-loop.js";
import { RunReport, type WorkerRunner } from "./run-report.js";
import { Prefetch, type PrefetchSetting } from "./prefetch.js";
import { RunState } from "./run-state.js";
import { jobInfo, SchemaVersions } from "./schema-versions.js";
import { Settler } from "./settler.js";
import { Updates } from "./updates.js";
import { WATCH_HEADER } from "../../core/watch.js";

/** What one run of a worker needs, all validated by `Worker`. */
export interface RunSettings {
  readonly actors: ReadonlyMap<string, Actor>;
  readonly registry: Registry | undefined;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly prefetch: PrefetchSetting;
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

export class WorkerRun {
  readonly #s: RunSettings;
  readonly #broker: MessageBroker;
  readonly #state = new RunState();
  readonly #settler: Settler;
  readonly #leases: LeaseKeeper;
  readonly #deps: ExecuteDeps;
  readonly #report: RunReport;
  readonly #schemas: SchemaVersions;
  readonly #consumer = randomUUID();
  readonly #pools = new Map<ExecutorKind, ExecutorPool>();
  /** Started attempts by delivery. */
  readonly #running = new Map<Delivery, Cancellation>();
  /** Received ahead of free slots (see `prefetch`), in delivery order. */
  readonly #buffer: Delivery[] = [];
  readonly #prefetch: Prefetch;
  /** Aborts a receive in progress when the run leaves `receiving`. */
  readonly #receiving = new AbortController();
  #grace: LongTimer | undefined;
  #receiveError: unknown;

  constructor(settings: RunSettings, broker: MessageBroker) {
    this.#s = settings;
    this.#broker = broker;
    this.#settler = new Settler(broker, settings.logger);
    this.#prefetch = new Prefetch(settings.prefetch, settings.concurrency);
    this.#leases = new LeaseKeeper(
      broker,
      settings.logger,
      settings.leaseMs,
      (delivery) => this.#lost(delivery),
      (delivery, mode) => this.#cancelled(delivery, mode),
    );
    this.#report = new RunReport(settings.hooks, settings.logger);
    this.#schemas = new SchemaVersions(settings.logger, settings.hooks);
    this.#deps = {
      actors: settings.actors,
      registry: settings.registry,
      pools: { thread: () => this.#pool("thread"), process: () => this.#pool("process") },
      hooks: settings.hooks,
      schemas: this.#schemas,
      logger: settings.logger,
      concurrency: settings.concurrency,
      updates: new Updates(broker, settings.logger, settings.registry),
    };
  }

  get stopping(): boolean {
    return this.#state.stopping;
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
    const from = this.#state.phase;
    if (!this.#state.to("stopping")) return;
    if (from === "receiving") this.#report.emit({ type: "worker-stopping", reason: "stop" });
    this.#receiving.abort();
    this.#giveBackUnstarted();
    this.#grace = setLongTimeout(() => this.force(), this.#s.graceMs);
  }

  /** Abort running actors now (the grace period ended, or a second signal). */
  force(): void {
    this.stop();
    if (!this.#state.to("forced")) return;
    this.#grace?.clear();
    for (const cancel of this.#running.values()) {
      cancel.abort(new ActorAbortedError());
      cancel.release();
    }
    // The aborted attempts' give-backs get a moment; a broker that cannot take them then is
    // given up on (those messages come back when their leases expire).
    setTimeout(() => this.#settler.close(), SETTLE_AFTER_FORCE_MS).unref();
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
      this.#report.emit({
        type: "worker-started",
        queues,
        consumer: this.#consumer,
        actors: [...this.#s.actors.keys()].sort(),
      });
      await receiveLoop(this.#receiveHost());
      if (this.#state.to("draining"))
        this.#report.emit({ type: "worker-stopping", reason: "limit" });
      // Drained when nothing is held: every delivery ran (or was given back) and is settled.
      await this.#state.until(() => this.#leases.size === 0 && this.#running.size === 0);
    } finally {
      clearInterval(deadlines);
      clearInterval(renewals);
      this.#grace?.clear();
      this.#settler.close();
      this.#report.flush();
      this.#schemas.summarize();
      await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
      await liveness
        ?.stop()
        .catch((error: unknown) =>
          logger.warn("repid: removing the worker's heartbeat failed", { error }),
        );
    }
    return this.#report.counts;
  }

  #receiveHost(): Parameters<typeof receiveLoop>[0] {
    const { queues, concurrency, limit, leaseMs, logger } = this.#s;
    return {
      broker: this.#broker,
      state: this.#state,
      logger,
      queues,
      consumer: this.#consumer,
      concurrency,
      prefetch: () => this.#prefetch.size(),
      limit,
      leaseMs,
      signal: this.#receiving.signal,
      held: () => this.#running.size + this.#buffer.length,
      beforeReceive: () => this.#settler.flush(),
      receiveFailed: (error) => (this.#receiveError = error),
      received: (deliveries, sentAt) => {
        this.#leases.add(deliveries, sentAt);
        this.#buffer.push(...deliveries);
        // Received while stopping: give it back at once.
        if (this.stopping) this.#giveBackUnstarted();
        else this.#pump();
      },
    };
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
    while (this.#running.size < this.#s.concurrency && this.#buffer.length > 0 && !this.stopping) {
      void this.#handle(this.#buffer.shift()!);
    }
  }

  async #handle(delivery: Delivery): Promise<void> {
    const cancel = new Cancellation();
    this.#running.set(delivery, cancel);
    const startedAt = Date.now();
    const began = performance.now();
    this.#report.started(delivery.message, startedAt);
    // Watched jobs (one header lookup) publish their lifecycle: see updates.ts.
    const watched = delivery.message.headers?.[WATCH_HEADER] !== undefined;
    if (watched)
      await this.#deps.updates.lifecycle(delivery.message, "running", delivery.message.attempt);
    let executed: Executed;
    try {
      executed = await execute(delivery, cancel, this.#deps);
      this.#prefetch.ran(performance.now() - began);
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
    // A step of a flow: its next step is enqueued before the step is settled (flow-continue.ts).
    if (executed.settlement && delivery.message.headers?.[FLOW_HEADER] !== undefined)
      executed = await continueFlow(this.#broker, delivery, executed, this.#s.logger);
    // A retry's `failed` goes out before the settlement puts the next attempt in the queue.
    if (watched && executed.outcome === "retried")
      await this.#deps.updates.lifecycle(delivery.message, "failed", delivery.message.attempt);
    // The slot is free as soon as the outcome is known: the next receive goes out together
    // with this settlement instead of one round trip after it.
    this.#running.delete(delivery);
    this.#pump();
    if (executed.settlement) {
      this.#settle(
        delivery,
        executed.settlement,
        executed.outcome,
        executed.failed,
        startedAt,
        watched,
      );
    } else {
      this.#leases.release(delivery);
    }
    this.#state.changed();
  }

  /** Sends a settlement; the delivery stays held (renewed) until it is applied or refused. */
  #settle(
    delivery: Delivery,
    settlement: Settlement,
    outcome: Outcome,
    failed = false,
    startedAt = 0,
    watched = false,
  ): void {
    this.#leases.settling(delivery);
    void this.#settler.settle(settlement).then((applied) => {
      const warned = this.#leases.warned(delivery);
      this.#leases.release(delivery);
      if (applied) {
        this.#report.settled(delivery.message, settlement, outcome, failed, startedAt);
        if (watched && (outcome === "succeeded" || outcome === "deadLettered")) {
          const state = outcome === "succeeded" ? "succeeded" : "dead";
          void this.#deps.updates.lifecycle(delivery.message, state, delivery.message.attempt);
        }
      } else if (!warned) {
        this.#s.logger.warn(
          `repid: the settlement of job "${delivery.message.id}" was not applied: its lease was lost (another worker may hold it) or the broker failed (it comes back when its lease expires)`,
          { id: delivery.message.id, actor: delivery.message.topic },
        );
      }
      this.#state.changed();
    });
  }

  /** The broker refused to renew a lease: abort its attempt, or drop it if it has not started. */
  #lost(delivery: Delivery): void {
    this.#report.emit({ type: "lease-lost", job: jobInfo(delivery.message) });
    this.#running.get(delivery)?.abort(new LeaseLostError());
    const waiting = this.#buffer.indexOf(delivery);
    if (waiting >= 0) this.#buffer.splice(waiting, 1);
    this.#state.changed();
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
    this.#state.changed();
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
}

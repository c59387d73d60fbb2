import { availableParallelism } from "node:os";
import type { Delivery } from "./brokers/broker.js";
import type { Connection } from "./connection.js";
import { toMs, type Duration } from "./duration.js";
import { ActorAbortedError, InvalidOptionError } from "./errors.js";
import { refuseInExecutor } from "./internal/actor-table.js";
import { Cancellation } from "./internal/cancellation.js";
import { execute, LeaseLostError, type Outcome } from "./internal/execute.js";
import { ExecutorPool } from "./internal/pool/executor-pool.js";
import { Settler } from "./internal/settler.js";
import {
  checkKnownKeys,
  checkNonNegativeInteger,
  checkObject,
  checkPositiveInteger,
} from "./internal/validate.js";
import { silentLogger, type Logger } from "./logger.js";
import type { Registry } from "./registry.js";
import { resolveConnection } from "./repid.js";
import { Router, type Actor } from "./router.js";

export interface WorkerOptions {
  /** Routers whose actors this worker runs. */
  readonly routers?: readonly Router[];
  /** Time running actors get to finish after a stop is asked for. @defaultValue "25s" */
  readonly gracefulShutdownTime?: Duration;
  /** Stop after receiving this many messages. @defaultValue Infinity */
  readonly messagesLimit?: number;
  /** Signals that start a graceful shutdown (a second one forces it). @defaultValue ["SIGINT", "SIGTERM"] */
  readonly handleSignals?: readonly NodeJS.Signals[];
  /** Declare the queues of the actors when `run()` starts. @defaultValue true */
  readonly autoDeclare?: boolean;
  /** Messages processed at once. @defaultValue 100 */
  readonly concurrency?: number;
  /**
   * Messages received ahead of free slots, so that the next job starts without waiting for a
   * round trip to the broker. They are leased while they wait (a crash returns them to the queue
   * like running ones), so a higher-priority message arriving meanwhile runs after them.
   * `0` receives only for free slots. @defaultValue 10
   */
  readonly prefetch?: number;
  /** Worker threads (and child processes) for sync actors. @defaultValue the number of CPUs */
  readonly threads?: number;
  /** Lease on each received message, renewed while it runs. @defaultValue "30s" */
  readonly leaseTime?: Duration;
  /** Generated registry: payloads are validated with its schemas before an actor sees them. */
  readonly registry?: Registry;
  /** Use this connection instead of the ambient `magic()` one. */
  readonly connection?: Connection;
  /** @defaultValue the connection's logger */
  readonly logger?: Logger;
}

/** What `run()` returns: counts of what this worker did. */
export interface WorkerRunner {
  /** Messages settled by this worker (succeeded, retried, dead-lettered or rescheduled). */
  readonly processed: number;
  readonly succeeded: number;
  /** Attempts that threw or timed out (retried + dead-lettered after a run). */
  readonly failed: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Periodic jobs put back for their next run. */
  readonly rescheduled: number;
  /** Messages given back unfinished at shutdown (attempt counter unchanged). */
  readonly rejected: number;
}

const KNOWN = [
  "routers",
  "gracefulShutdownTime",
  "messagesLimit",
  "handleSignals",
  "autoDeclare",
  "concurrency",
  "prefetch",
  "threads",
  "leaseTime",
  "registry",
  "connection",
  "logger",
] as const;

interface Running {
  readonly delivery: Delivery;
  readonly controller: Cancellation;
}

/**
 * Receives messages and runs the matching actors. A Worker is also a Router.
 * @example
 * const runner = await new Worker({ routers: [router], messagesLimit: 1 }).run();
 */
export class Worker extends Router {
  readonly #options: WorkerOptions;
  readonly #graceMs: number;
  readonly #limit: number;
  readonly #concurrency: number;
  readonly #prefetch: number;
  readonly #leaseMs: number;
  #logger: Logger;
  #stopping: AbortController | undefined;
  #starting = false;
  #stopEarly = false;
  #force: AbortController | undefined;

  constructor(options: WorkerOptions = {}) {
    super();
    checkKnownKeys("Worker", checkObject("options", options), KNOWN);
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#graceMs = toMs(options.gracefulShutdownTime ?? 25_000, "gracefulShutdownTime");
    this.#limit = checkPositiveInteger("messagesLimit", options.messagesLimit ?? Infinity);
    this.#concurrency = checkPositiveInteger("concurrency", options.concurrency ?? 100);
    this.#prefetch = checkNonNegativeInteger("prefetch", options.prefetch ?? 10);
    this.#leaseMs = toMs(options.leaseTime ?? 30_000, "leaseTime");
    if (this.#leaseMs < 100) throw new InvalidOptionError("leaseTime", "must be at least 100 ms");
    if (options.threads !== undefined) checkPositiveInteger("threads", options.threads);
    if (options.handleSignals !== undefined && !Array.isArray(options.handleSignals)) {
      throw new InvalidOptionError("handleSignals", "expected an array of signal names");
    }
    for (const router of options.routers ?? []) this.includeRouter(router);
  }

  /** Adds every actor of `router`; an actor with an existing name replaces it (with a warning). */
  includeRouter(router: Router): this {
    if (!(router instanceof Router))
      throw new InvalidOptionError("routers", "expected Router instances");
    for (const actor of router.actors.values()) this.register(actor);
    return this;
  }

  protected override register(actor: Actor): Actor | undefined {
    const previous = super.register(actor);
    if (previous) {
      this.#logger.warn(
        `repid: actor "${actor.name}" registered twice; the later one replaces the earlier`,
        {
          actor: actor.name,
        },
      );
    }
    return previous;
  }

  /** Asks a running (or starting) worker to stop gracefully, as a handled signal does. */
  stop(): void {
    if (this.#stopping) this.#stopping.abort();
    else if (this.#starting) this.#stopEarly = true;
  }

  /**
   * Declares the actors' queues (unless `autoDeclare: false`), then receives and runs messages
   * until a handled signal, `stop()` or `messagesLimit`; then shuts down gracefully.
   */
  async run(): Promise<WorkerRunner> {
    refuseInExecutor("Worker.run()");
    this.#starting = true;
    this.#stopEarly = false;
    try {
      return await this.#run();
    } finally {
      this.#starting = false;
    }
  }

  async #run(): Promise<WorkerRunner> {
    const counts = {
      processed: 0,
      succeeded: 0,
      failed: 0,
      retried: 0,
      deadLettered: 0,
      rescheduled: 0,
      rejected: 0,
    };
    const connection = resolveConnection(this.#options.connection);
    this.#logger = this.#options.logger ?? connection.logger;
    await connection.connect();
    const broker = connection.broker;
    const queues = [...new Set([...this.actors.values()].map((a) => a.queue))].sort();
    if (this.#options.autoDeclare ?? true)
      for (const queue of queues) await broker.declareQueue(queue);

    const stopping = (this.#stopping = new AbortController());
    if (this.#stopEarly) stopping.abort();
    const force = (this.#force = new AbortController());
    const signals = this.#options.handleSignals ?? ["SIGINT", "SIGTERM"];
    const onSignal = (signal: NodeJS.Signals): void => {
      this.#logger.info(
        `repid: ${signal} received, ${stopping.signal.aborted ? "forcing stop" : "shutting down"}`,
      );
      if (stopping.signal.aborted) force.abort();
      stopping.abort();
    };
    for (const signal of signals) process.on(signal, onSignal);

    const settler = new Settler(broker, this.#logger);
    const running = new Map<Delivery, Running>();
    const pools = new Map<"thread" | "process", ExecutorPool>();
    const poolOf = (kind: "thread" | "process") => (): ExecutorPool => {
      let pool = pools.get(kind);
      if (!pool)
        pools.set(
          kind,
          (pool = new ExecutorPool(kind, this.#options.threads ?? availableParallelism())),
        );
      return pool;
    };
    const deps = {
      actors: this.actors,
      registry: this.#options.registry,
      pools: { thread: poolOf("thread"), process: poolOf("process") },
    };
    const listeners = new Set<() => void>();
    const changed = (): Promise<void> =>
      new Promise((resolve) => {
        const done = (): void => {
          listeners.delete(done);
          resolve();
        };
        listeners.add(done);
      });
    const tally = (outcome: Outcome): void => {
      if (outcome === "lost") return;
      counts[outcome]++;
      if (outcome !== "rejected") counts.processed++;
    };
    /** Messages started and not yet settled (running, or their settlement in flight). */
    let inflight = 0;
    const notify = (): void => {
      if (listeners.size > 0) for (const listener of [...listeners]) listener();
    };
    /** Received ahead of free slots (see `prefetch`), in delivery order. */
    const buffer: Delivery[] = [];
    const pump = (): void => {
      while (running.size < this.#concurrency && buffer.length > 0 && !stopping.signal.aborted)
        start(buffer.shift()!);
    };
    const release = (delivery: Delivery): void => {
      if (!running.delete(delivery)) return;
      pump();
      notify();
    };
    const handle = async (delivery: Delivery): Promise<void> => {
      const controller = new Cancellation();
      running.set(delivery, { delivery, controller });
      try {
        const { settlement, outcome, failed } = await execute(delivery, controller, deps);
        // The slot is free as soon as the outcome is known: the next receive goes out together
        // with this settlement instead of one round trip after it.
        release(delivery);
        if (settlement && !(await settler.settle(settlement))) {
          this.#logger.warn("repid: settlement refused, the lease was lost", {
            id: delivery.message.id,
          });
          return;
        }
        tally(outcome);
        if (failed) counts.failed++;
      } catch (error) {
        this.#logger.error("repid: unexpected error while handling a message", {
          error,
          id: delivery.message.id,
        });
      } finally {
        release(delivery);
        if (--inflight === 0) notify();
      }
    };
    const start = (delivery: Delivery): void => {
      inflight++;
      void handle(delivery);
    };

    // One timer checks every running attempt's deadline (instead of a timer per job).
    const deadlineTimer = setInterval(() => {
      const now = Date.now();
      for (const r of running.values()) r.controller.checkDeadline(now);
    }, 10);
    // Renewing leases also keeps the process alive while the worker waits for messages.
    const renewTimer = setInterval(
      () => {
        if (running.size === 0 && buffer.length === 0) return;
        const held = [...running.values()];
        const waiting = [...buffer];
        void settler.renew([...held.map((r) => r.delivery), ...waiting], this.#leaseMs).then((ok) =>
          ok.forEach((alive, i) => {
            if (alive) return;
            if (i < held.length) held[i]!.controller.abort(new LeaseLostError());
            else buffer.splice(buffer.indexOf(waiting[i - held.length]!), 1);
          }),
        );
      },
      Math.max(50, Math.floor(this.#leaseMs / 3)),
    );

    let received = 0;
    const stopped = aborted(stopping.signal);
    // Refill in batches: wait until a quarter of the capacity is free, so that one receive (one
    // round trip) fetches many messages instead of one per finished job.
    const capacity = this.#concurrency + this.#prefetch;
    const refillAt = capacity - Math.max(1, Math.floor(capacity / 4));
    try {
      // No actors, no queues to read: wait for a stop (as repid's bare `Worker().run()` does).
      if (queues.length === 0) await stopped;
      while (!stopping.signal.aborted && received < this.#limit) {
        const held = running.size + buffer.length;
        if (held > refillAt) {
          await Promise.race([changed(), stopped]);
          continue;
        }
        const max = Math.min(capacity - held, this.#limit - received);
        let deliveries: Delivery[];
        try {
          deliveries = await broker.receive(queues, {
            max,
            leaseMs: this.#leaseMs,
            signal: stopping.signal,
          });
        } catch (error) {
          this.#logger.error("repid: receiving messages failed; retrying in 1 s", { error });
          await sleep(1000, stopping.signal);
          continue;
        }
        // The contract says receive waits; a broker that returns empty anyway must not starve
        // the event loop.
        if (deliveries.length === 0) await new Promise((resolve) => setImmediate(resolve));
        received += deliveries.length;
        buffer.push(...deliveries);
        pump();
      }
      // Past messagesLimit, what was received still runs; on a stop, it goes back unstarted.
      while (buffer.length > 0 && !stopping.signal.aborted)
        await Promise.race([changed(), stopped]);
      stopping.abort();
      const unstarted = buffer.splice(0).map((delivery) =>
        settler
          .settle({ kind: "requeue", delivery, attempt: delivery.message.attempt })
          .then((applied) => {
            if (applied) tally("rejected");
          }),
      );
      await this.#drain(running, changed, force.signal);
      while (inflight > 0) await changed();
      await Promise.all(unstarted);
    } finally {
      clearInterval(renewTimer);
      clearInterval(deadlineTimer);
      for (const signal of signals) process.off(signal, onSignal);
      await Promise.all([...pools.values()].map((pool) => pool.close()));
      this.#stopping = undefined;
      this.#force = undefined;
    }
    return counts;
  }

  /** Waits up to the grace period for running actors, then aborts the rest (they get rejected). */
  async #drain(
    running: Map<Delivery, Running>,
    changed: () => Promise<void>,
    force: AbortSignal,
  ): Promise<void> {
    const grace = new AbortController();
    const timer = setTimeout(() => grace.abort(), this.#graceMs);
    const stop = AbortSignal.any([grace.signal, force]);
    while (running.size > 0 && !stop.aborted) await Promise.race([changed(), aborted(stop)]);
    clearTimeout(timer);
    for (const r of running.values()) r.controller.abort(new ActorAbortedError());
    while (running.size > 0) await changed();
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

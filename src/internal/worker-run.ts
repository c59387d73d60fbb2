import type { Delivery, MessageBroker } from "../brokers/broker.js";
import { ActorAbortedError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Registry } from "../registry.js";
import type { Actor } from "../router.js";
import type { WorkerRunner } from "../worker.js";
import { Cancellation } from "./cancellation.js";
import { execute, LeaseLostError, type ExecuteDeps, type Outcome } from "./execute.js";
import { ExecutorPool, type ExecutorKind } from "./pool/executor-pool.js";
import { Settler } from "./settler.js";

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
  readonly logger: Logger;
}

type Counts = { -readonly [K in keyof WorkerRunner]: number };

/**
 * One `Worker.run()`: receives in batches, keeps up to `concurrency` messages running and up to
 * `prefetch` more waiting, settles in batches, renews leases, enforces deadlines, and on a stop
 * gives back what has not started and drains what has.
 */
export class WorkerRun {
  readonly #s: RunSettings;
  readonly #broker: MessageBroker;
  readonly #settler: Settler;
  readonly #deps: ExecuteDeps;
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
  readonly #listeners = new Set<() => void>();
  readonly #stopping = new AbortController();
  readonly #force = new AbortController();
  readonly #stopped: Promise<void>;
  /** Messages started and not yet settled (running, or their settlement in flight). */
  #inflight = 0;

  constructor(settings: RunSettings, broker: MessageBroker) {
    this.#s = settings;
    this.#broker = broker;
    this.#settler = new Settler(broker, settings.logger);
    this.#stopped = aborted(this.#stopping.signal);
    this.#deps = {
      actors: settings.actors,
      registry: settings.registry,
      pools: { thread: () => this.#pool("thread"), process: () => this.#pool("process") },
    };
  }

  get stopping(): boolean {
    return this.#stopping.signal.aborted;
  }

  /** Stop receiving; running actors get the grace period. */
  stop(): void {
    this.#stopping.abort();
  }

  /** Abort running actors now (a second signal). */
  force(): void {
    this.#force.abort();
    this.#stopping.abort();
  }

  async run(): Promise<WorkerRunner> {
    // One timer checks every running attempt's deadline (instead of a timer per job).
    const deadlines = setInterval(() => this.#checkDeadlines(), 10);
    // Renewing leases also keeps the process alive while the worker waits for messages.
    const renewals = setInterval(
      () => this.#renew(),
      Math.max(50, Math.floor(this.#s.leaseMs / 3)),
    );
    try {
      await this.#receiveLoop();
      const unstarted = this.#giveBackUnstarted();
      await this.#drain();
      await Promise.all(unstarted);
    } finally {
      clearInterval(deadlines);
      clearInterval(renewals);
      await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    }
    return { ...this.#counts };
  }

  async #receiveLoop(): Promise<void> {
    const { queues, concurrency, prefetch, limit, leaseMs, logger } = this.#s;
    // No actors, no queues to read: wait for a stop (as repid's bare `Worker().run()` does).
    if (queues.length === 0) await this.#stopped;
    // Refill in batches: wait until a quarter of the capacity is free, so that one receive (one
    // round trip) fetches many messages instead of one per finished job.
    const capacity = concurrency + prefetch;
    const refillAt = capacity - Math.max(1, Math.floor(capacity / 4));
    const signal = this.#stopping.signal;
    let received = 0;
    while (!signal.aborted && received < limit) {
      const held = this.#running.size + this.#buffer.length;
      if (held > refillAt) {
        await Promise.race([this.#changed(), this.#stopped]);
        continue;
      }
      const max = Math.min(capacity - held, limit - received);
      let deliveries: Delivery[];
      try {
        deliveries = await this.#broker.receive(queues, { max, leaseMs, signal });
      } catch (error) {
        logger.error("repid: receiving messages failed; retrying in 1 s", { error });
        await sleep(1000, signal);
        continue;
      }
      // The contract says receive waits; a broker that returns empty anyway must not starve
      // the event loop.
      if (deliveries.length === 0) await new Promise((resolve) => setImmediate(resolve));
      received += deliveries.length;
      this.#buffer.push(...deliveries);
      this.#pump();
    }
    // Past messagesLimit, what was received still runs.
    while (this.#buffer.length > 0 && !signal.aborted) {
      await Promise.race([this.#changed(), this.#stopped]);
    }
    this.#stopping.abort();
  }

  /** On a stop, prefetched messages go back to the queue at once, attempt unchanged. */
  #giveBackUnstarted(): Promise<void>[] {
    return this.#buffer.splice(0).map((delivery) =>
      this.#settler
        .settle({ kind: "requeue", delivery, attempt: delivery.message.attempt })
        .then((applied) => {
          if (applied) this.#tally("rejected");
        }),
    );
  }

  /** Waits up to the grace period for running actors, then aborts the rest (they get rejected). */
  async #drain(): Promise<void> {
    const grace = new AbortController();
    const timer = setTimeout(() => grace.abort(), this.#s.graceMs);
    const stop = AbortSignal.any([grace.signal, this.#force.signal]);
    const stopped = aborted(stop);
    while (this.#running.size > 0 && !stop.aborted) await Promise.race([this.#changed(), stopped]);
    clearTimeout(timer);
    for (const cancel of this.#running.values()) cancel.abort(new ActorAbortedError());
    while (this.#inflight > 0) await this.#changed();
  }

  #pump(): void {
    while (
      this.#running.size < this.#s.concurrency &&
      this.#buffer.length > 0 &&
      !this.#stopping.signal.aborted
    ) {
      this.#start(this.#buffer.shift()!);
    }
  }

  #start(delivery: Delivery): void {
    this.#inflight++;
    void this.#handle(delivery);
  }

  async #handle(delivery: Delivery): Promise<void> {
    const cancel = new Cancellation();
    this.#running.set(delivery, cancel);
    try {
      const { settlement, outcome, failed } = await execute(delivery, cancel, this.#deps);
      // The slot is free as soon as the outcome is known: the next receive goes out together
      // with this settlement instead of one round trip after it.
      this.#release(delivery);
      if (settlement && !(await this.#settler.settle(settlement))) {
        this.#s.logger.warn(
          "repid: settlement not applied: the lease was lost (another worker holds the message) or the broker failed (the message comes back when its lease expires)",
          {
            id: delivery.message.id,
          },
        );
        return;
      }
      this.#tally(outcome);
      if (failed) this.#counts.failed++;
    } catch (error) {
      this.#s.logger.error("repid: unexpected error while handling a message", {
        error,
        id: delivery.message.id,
      });
    } finally {
      this.#release(delivery);
      if (--this.#inflight === 0) this.#notify();
    }
  }

  #release(delivery: Delivery): void {
    if (!this.#running.delete(delivery)) return;
    this.#pump();
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

  /** Renews every held lease in one batch; a lost one aborts its attempt or drops it unstarted. */
  #renew(): void {
    if (this.#running.size === 0 && this.#buffer.length === 0) return;
    const held = [...this.#running.keys(), ...this.#buffer];
    void this.#settler.renew(held, this.#s.leaseMs).then((alive) =>
      alive.forEach((ok, i) => {
        if (ok) return;
        const delivery = held[i]!;
        this.#running.get(delivery)?.abort(new LeaseLostError());
        const waiting = this.#buffer.indexOf(delivery);
        if (waiting >= 0) this.#buffer.splice(waiting, 1);
      }),
    );
  }

  #pool(kind: ExecutorKind): ExecutorPool {
    let pool = this.#pools.get(kind);
    if (!pool) this.#pools.set(kind, (pool = new ExecutorPool(kind, this.#s.threads)));
    return pool;
  }

  /** Resolves at the next change: a slot freed or the last settlement done. */
  #changed(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#listeners.delete(done);
        resolve();
      };
      this.#listeners.add(done);
    });
  }

  #notify(): void {
    if (this.#listeners.size > 0) for (const listener of [...this.#listeners]) listener();
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

import type { CancelMode } from "../../brokers/admin.js";
import type { Delivery, MessageBroker } from "../../brokers/broker.js";
import type { Logger } from "../../core/logger.js";

interface Holding {
  /** Local epoch ms until which the lease is known to hold (the last successful renewal). */
  leaseUntil: number;
  /** The loss of this lease was logged already (it is logged once). */
  warned: boolean;
  /** A cancellation was reported for it already. */
  cancelled: boolean;
  /** Its settlement is on its way: a refused renewal may only mean it was applied first. */
  settling: boolean;
}

/**
 * The deliveries a worker holds, from receipt until their settlement is applied (or the lease
 * is known lost), and the renewal of their leases: one renewal in flight at a time, a failed
 * renewal logged and retried at the next tick, never taken for success. A lease whose local
 * deadline passes without a successful renewal is reported lost (`onLost`), and logged once with
 * the measured event-loop lag when the loop was what kept the worker from renewing it.
 */
export class LeaseKeeper {
  readonly #broker: MessageBroker;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #intervalMs: number;
  readonly #onLost: (delivery: Delivery) => void;
  readonly #onCancelled: (delivery: Delivery, mode: CancelMode) => void;
  readonly #held = new Map<Delivery, Holding>();
  #renewing = false;
  #lastTick = Date.now();
  #lag = 0;

  constructor(
    broker: MessageBroker,
    logger: Logger,
    leaseMs: number,
    onLost: (delivery: Delivery) => void,
    onCancelled: (delivery: Delivery, mode: CancelMode) => void,
  ) {
    this.#broker = broker;
    this.#logger = logger;
    this.#leaseMs = leaseMs;
    this.#intervalMs = Math.max(50, Math.floor(leaseMs / 3));
    this.#onLost = onLost;
    this.#onCancelled = onCancelled;
  }

  /** How often `tick` should run. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  get size(): number {
    return this.#held.size;
  }

  /** Deliveries received by a `receive` call made at `sentAt` (local epoch ms). */
  add(deliveries: readonly Delivery[], sentAt: number): void {
    const leaseUntil = sentAt + this.#leaseMs;
    for (const delivery of deliveries)
      this.#held.set(delivery, { leaseUntil, warned: false, cancelled: false, settling: false });
  }

  /**
   * The delivery's settlement was sent. A renewal sent after it may reach the broker after it was
   * applied and be refused for that reason: the settlement's own outcome then says what happened
   * (its reply may be read after the renewal's, as when its calls spanned several cluster nodes).
   */
  settling(delivery: Delivery): void {
    const holding = this.#held.get(delivery);
    if (holding) holding.settling = true;
  }

  /** The delivery is settled (or given up): no more renewals. Returns whether it was held. */
  release(delivery: Delivery): boolean {
    const holding = this.#held.get(delivery);
    if (!holding) return false;
    this.#held.delete(delivery);
    this.#checkExpired(delivery, holding, Date.now());
    return true;
  }

  /** Whether the loss of this delivery's lease was already logged. */
  warned(delivery: Delivery): boolean {
    return this.#held.get(delivery)?.warned ?? false;
  }

  /** Runs on the renewal timer. */
  tick(): void {
    const now = Date.now();
    this.#lag = Math.max(0, now - this.#lastTick - this.#intervalMs);
    this.#lastTick = now;
    for (const [delivery, holding] of this.#held) this.#checkExpired(delivery, holding, now);
    if (this.#renewing || this.#held.size === 0) return;
    this.#renewing = true;
    const deliveries = [...this.#held.keys()];
    void this.#renew(deliveries, now).finally(() => (this.#renewing = false));
  }

  async #renew(deliveries: Delivery[], sentAt: number): Promise<void> {
    let alive: Awaited<ReturnType<MessageBroker["renew"]>>;
    try {
      alive = await this.#broker.renew(deliveries, this.#leaseMs);
    } catch (error) {
      this.#logger.error("repid: renewing leases failed; retrying at the next renewal", {
        error,
        count: deliveries.length,
      });
      // Nothing is known; a lease whose deadline passes meanwhile is lost for this worker.
      const now = Date.now();
      for (const delivery of deliveries) {
        const holding = this.#held.get(delivery);
        if (holding && holding.leaseUntil <= now) this.#lose(delivery, holding);
      }
      return;
    }
    alive.forEach((ok, i) => {
      const delivery = deliveries[i]!;
      const holding = this.#held.get(delivery);
      if (!holding) return;
      if (ok === false) {
        if (holding.settling) return;
        return this.#lose(delivery, holding);
      }
      holding.leaseUntil = sentAt + this.#leaseMs;
      // Still held, but an operator cancelled the job: its holder ends it (once).
      if (ok !== true && !holding.cancelled) {
        holding.cancelled = true;
        this.#onCancelled(delivery, ok.cancelled);
      }
    });
  }

  #lose(delivery: Delivery, holding: Holding): void {
    this.#held.delete(delivery);
    this.#warn(delivery, holding, "was lost (the broker refused to renew it)");
    this.#onLost(delivery);
  }

  #checkExpired(delivery: Delivery, holding: Holding, now: number): void {
    if (holding.warned || now <= holding.leaseUntil) return;
    this.#warn(delivery, holding, "ran out before this worker could renew it");
  }

  #warn(delivery: Delivery, holding: Holding, what: string): void {
    if (holding.warned) return;
    holding.warned = true;
    const { id, topic } = delivery.message;
    const lag = Math.max(this.#lag, Date.now() - this.#lastTick - this.#intervalMs);
    const blocked =
      lag > this.#leaseMs / 3
        ? `the event loop was blocked for about ${lag} ms (lease ${this.#leaseMs} ms); run CPU-bound work in a sync actor (it runs in a worker thread) or raise leaseTime`
        : `the event loop lag was ${lag} ms, so the broker was slow or unreachable`;
    this.#logger.warn(
      `repid: the lease of job "${id}" (actor "${topic}") ${what}: another worker may run it again; ${blocked}`,
      { id, actor: topic, lagMs: lag, leaseMs: this.#leaseMs },
    );
  }
}

import type { Delivery, MessageBroker, Settlement } from "../brokers/broker.js";
import type { Logger } from "../logger.js";

const MAX_BATCH = 256;

interface Pending {
  readonly settlement: Settlement;
  readonly done: (applied: boolean) => void;
}

/**
 * Collects settlements made in the same tick and hands them to the broker as one batch (one
 * round trip on Redis), likewise lease renewals.
 */
export class Settler {
  readonly #broker: MessageBroker;
  readonly #logger: Logger;
  #batch: Pending[] = [];
  #scheduled = false;

  constructor(broker: MessageBroker, logger: Logger) {
    this.#broker = broker;
    this.#logger = logger;
  }

  /** Resolves to whether the broker applied it (false: the lease was lost meanwhile). */
  settle(settlement: Settlement): Promise<boolean> {
    return new Promise((done) => {
      this.#batch.push({ settlement, done });
      // A full batch goes at once: a worker whose jobs finish in microtasks (the in-memory
      // broker, no-op actors) would otherwise pile up settlements until the loop yields.
      if (this.#batch.length >= MAX_BATCH) void this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          void this.#flush();
        });
      }
    });
  }

  async renew(deliveries: readonly Delivery[], leaseMs: number): Promise<boolean[]> {
    try {
      return await this.#broker.renew(deliveries, leaseMs);
    } catch (error) {
      this.#logger.error("repid: renewing leases failed", { error });
      // Unknown: keep running; a lease that really expired is caught by the next renewal.
      return deliveries.map(() => true);
    }
  }

  async #flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    try {
      const applied = await this.#broker.settle(batch.map((p) => p.settlement));
      batch.forEach((p, i) => p.done(applied[i] ?? false));
    } catch (error) {
      // The messages stay leased; when the leases expire they are delivered again.
      this.#logger.error("repid: settling messages failed; they will be redelivered", {
        error,
        count: batch.length,
      });
      for (const p of batch) p.done(false);
    }
  }
}

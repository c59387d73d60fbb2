import type { MessageBroker, Settlement } from "../../brokers/broker.js";
import type { Logger } from "../../core/logger.js";
import { mapped } from "../../core/arrays.js";

const MAX_BATCH = 256;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;

interface Pending {
  readonly settlement: Settlement;
  readonly done: (applied: boolean) => void;
}

/**
 * Collects settlements made in the same tick and hands them to the broker as one batch (one
 * round trip on Redis). A batch the broker failed to take (it threw) is retried with backoff
 * until it is applied or refused, or until `close()` gives up: the worker keeps renewing those
 * leases meanwhile, so a slow or failing broker never makes a finished job run again.
 */
export class Settler {
  readonly #broker: MessageBroker;
  readonly #logger: Logger;
  #batch: Pending[] = [];
  #scheduled = false;
  #failures = 0;
  #closed = false;
  readonly #retrying = new Set<{ timer: NodeJS.Timeout; batch: Pending[] }>();

  constructor(broker: MessageBroker, logger: Logger) {
    this.#broker = broker;
    this.#logger = logger;
  }

  /** Resolves to whether the broker applied it (false: the lease was lost, or `close()`). */
  settle(settlement: Settlement): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return new Promise((done) => {
      this.#batch.push({ settlement, done });
      // A full batch goes at once: a worker whose jobs finish in microtasks (the in-memory
      // broker, no-op actors) would otherwise pile up settlements until the loop yields.
      if (this.#batch.length >= MAX_BATCH) this.flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Sends what is pending now (the worker calls it before a receive, so settlements go first). */
  flush(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    void this.#send(batch);
  }

  /** Gives up: pending and retrying settlements resolve `false` (their leases expire). */
  close(): void {
    this.#closed = true;
    const lost = this.#batch.splice(0);
    for (const retry of this.#retrying) {
      clearTimeout(retry.timer);
      lost.push(...retry.batch);
    }
    this.#retrying.clear();
    if (lost.length > 0) {
      this.#logger.error(
        `repid: ${lost.length} settlement(s) could not be applied before the worker stopped; their messages come back when their leases expire`,
        { count: lost.length },
      );
    }
    for (const p of lost) p.done(false);
  }

  async #send(batch: Pending[]): Promise<void> {
    try {
      const applied = await this.#broker.settle(mapped(batch, (p) => p.settlement));
      this.#failures = 0;
      batch.forEach((p, i) => p.done(applied[i] ?? false));
    } catch (error) {
      if (this.#closed) {
        for (const p of batch) p.done(false);
        return;
      }
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.#failures++);
      this.#logger.error(`repid: settling messages failed; retrying in ${delay} ms`, {
        error,
        count: batch.length,
      });
      const retry = {
        batch,
        timer: setTimeout(() => {
          this.#retrying.delete(retry);
          void this.#send(batch);
        }, delay),
      };
      this.#retrying.add(retry);
    }
  }
}

/** The in-memory broker's pending receives: each waits until a change hands it deliveries. */
import type { Delivery, ReceiveOptions } from "../broker.js";

interface Waiter {
  readonly queues: readonly string[];
  readonly options: ReceiveOptions;
  readonly resolve: (deliveries: Delivery[]) => void;
  readonly cleanup: () => void;
}

/** What a waiter is offered: up to `options.max` deliveries from `queues`, as of `now`. */
export type Take = (queues: readonly string[], options: ReceiveOptions, now: number) => Delivery[];

export class ReceiveWaiters {
  readonly #waiters = new Set<Waiter>();
  #wakeQueued = false;

  /** Resolves with the first deliveries `wake` finds for it, or empty when the signal aborts. */
  wait(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    return new Promise((resolve) => {
      const onAbort = (): void => this.#finish(waiter, []);
      const waiter: Waiter = {
        queues,
        options,
        resolve,
        cleanup: () => options.signal?.removeEventListener("abort", onAbort),
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Offers every waiter what `take` finds for it; those handed something are answered. */
  wake(take: Take): void {
    if (this.#waiters.size === 0) return;
    const now = Date.now();
    for (const waiter of [...this.#waiters]) {
      const taken = take(waiter.queues, waiter.options, now);
      if (taken.length > 0) this.#finish(waiter, taken);
    }
  }

  /**
   * `wake` once the current call is done (a limit group released a message, maybe in the middle
   * of a receive that cannot take it); calls made meanwhile share it.
   */
  wakeSoon(take: Take): void {
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      this.wake(take);
    });
  }

  /** Answers every waiter empty (the broker disconnects). */
  finishAll(): void {
    for (const waiter of [...this.#waiters]) this.#finish(waiter, []);
  }

  #finish(waiter: Waiter, deliveries: Delivery[]): void {
    if (!this.#waiters.delete(waiter)) return;
    waiter.cleanup();
    waiter.resolve(deliveries);
  }
}

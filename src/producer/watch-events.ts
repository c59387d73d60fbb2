/**
 * The events a watch (job-watch.ts, flow-watch.ts) waits on, kept in the order they arrive:
 * updates its subscriptions push, results its waits bring, and `"aborted"` when the caller's
 * signal aborts. `signal` ends the subscriptions and waits once the watch is closed.
 */
import type { MessageBroker, StoredResult } from "../brokers/broker.js";

/** How long a watch waits for a result at most (it stops earlier when closed). */
export const RESULT_WAIT_MS = 365 * 86_400_000;

/** A watch's queue of events `E` (and `"aborted"`), with the signal that ends its sources. */
export class WatchEvents<E> {
  readonly #stop = new AbortController();
  readonly #events: (E | "aborted")[] = [];
  readonly #outer: AbortSignal | undefined;
  #wake: (() => void) | undefined;

  constructor(outer: AbortSignal | undefined) {
    this.#outer = outer;
    outer?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Aborted when the watch is closed: give it to subscriptions and waits. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  readonly push = (event: E): void => {
    this.#events.push(event);
    this.#wake?.();
  };

  /** Pushes `toEvent(result)` once the job's result is stored (nothing when the watch closes). */
  result(
    broker: MessageBroker,
    id: string,
    queue: string,
    toEvent: (result: StoredResult) => E,
  ): void {
    broker
      .waitForResult(id, { timeoutMs: RESULT_WAIT_MS, signal: this.#stop.signal, queue })
      .then((result) => result && this.push(toEvent(result)))
      .catch(() => {});
  }

  /** The next event, waiting for one; `"aborted"` once the caller's signal aborts. */
  async next(): Promise<E | "aborted"> {
    while (this.#events.length === 0) await new Promise<void>((r) => (this.#wake = r));
    this.#wake = undefined;
    return this.#events.shift()!;
  }

  close(): void {
    this.#outer?.removeEventListener("abort", this.#onAbort);
    this.#stop.abort();
  }

  readonly #onAbort = (): void => {
    this.#events.push("aborted");
    this.#wake?.();
  };
}

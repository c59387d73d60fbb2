import type { Redis } from "ioredis";

/**
 * Blocking connections for idle consumers. A `receive` that finds nothing ready blocks in
 * BLPOP on the queues' notify lists (pushed to by enqueue, requeue and by a consumer that left
 * messages behind) for at most the time until the next delayed message or lease deadline. Each
 * concurrent wait holds its own connection, so aborting one wait closes only that connection.
 */
export class BlockingPool {
  readonly #open: () => Redis;
  readonly #idle: Redis[] = [];
  readonly #busy = new Set<Redis>();
  #closed = false;

  constructor(open: () => Redis) {
    this.#open = open;
  }

  /**
   * Waits until one of the lists receives a token, `timeoutMs` passes or the signal aborts.
   * Resolves in all cases (a broken connection is dropped and counts as a wake-up: the caller
   * runs its receive script again, which reports real connection trouble).
   */
  async wait(keys: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.#closed || signal.aborted) return;
    const conn = this.#idle.pop() ?? this.#open();
    this.#busy.add(conn);
    const onAbort = (): void => conn.disconnect();
    signal.addEventListener("abort", onAbort, { once: true });
    let healthy = true;
    try {
      await conn.blpop(...keys, (Math.max(1, timeoutMs) / 1000).toFixed(3));
    } catch {
      healthy = false;
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#busy.delete(conn);
    }
    if (healthy && !signal.aborted && !this.#closed) this.#idle.push(conn);
    else conn.disconnect();
  }

  /** Closes every connection; blocked waits resolve at once. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#idle.splice(0)) conn.disconnect();
    for (const conn of this.#busy) conn.disconnect();
  }

  /** Allows use again after `close()` (a broker can be connected again). */
  reopen(): void {
    this.#closed = false;
  }
}

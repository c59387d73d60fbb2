import type { Redis } from "ioredis";

interface Blocker {
  readonly conn: Redis;
  /** Server-side client id, for CLIENT UNBLOCK; unknown until asked after each (re)connection. */
  id: number | undefined;
}

/**
 * Blocking connections for idle consumers. A `receive` that finds nothing ready blocks in
 * BLPOP on the queues' notify lists (pushed to by enqueue, requeue and by a consumer that left
 * messages behind) for at most the time until the next delayed message or lease deadline. Each
 * concurrent wait holds its own connection, so aborting one wait closes only that connection.
 *
 * Redis checks blocking timeouts only about every 100 ms (its `hz`), too coarse for delays, so
 * a local timer ends the wait on time with CLIENT UNBLOCK (sent on the main connection); the
 * server-side timeout stays as a backstop one second later.
 */
export class BlockingPool {
  readonly #open: () => Redis;
  readonly #unblock: (id: number) => Promise<number>;
  readonly #idle: Blocker[] = [];
  readonly #busy = new Set<Blocker>();
  #closed = false;

  constructor(open: () => Redis, unblock: (id: number) => Promise<number>) {
    this.#open = open;
    this.#unblock = unblock;
  }

  /**
   * Waits until one of the lists receives a token, `timeoutMs` passes or one of the signals aborts.
   * Resolves in all cases (a broken connection is dropped and counts as a wake-up: the caller
   * runs its receive script again, which reports real connection trouble).
   */
  async wait(
    keys: readonly string[],
    timeoutMs: number,
    signals: readonly AbortSignal[],
  ): Promise<void> {
    const aborted = (): boolean => signals.some((s) => s.aborted);
    if (this.#closed || aborted()) return;
    const blocker = this.#idle.pop() ?? this.#create();
    this.#busy.add(blocker);
    const onAbort = (): void => blocker.conn.disconnect();
    for (const signal of signals) signal.addEventListener("abort", onAbort, { once: true });
    let healthy = true;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      blocker.id ??= Number(await blocker.conn.client("ID"));
      const id = blocker.id;
      timer = setTimeout(() => void this.#interrupt(id, () => settled), timeoutMs);
      await blocker.conn.blpop(...keys, ((timeoutMs + 1000) / 1000).toFixed(3));
    } catch {
      healthy = false;
    } finally {
      settled = true;
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener("abort", onAbort);
      this.#busy.delete(blocker);
    }
    if (healthy && !aborted() && !this.#closed) this.#idle.push(blocker);
    else blocker.conn.disconnect();
  }

  /** Closes every connection; blocked waits resolve at once. */
  close(): void {
    this.#closed = true;
    for (const b of this.#idle.splice(0)) b.conn.disconnect();
    for (const b of this.#busy) b.conn.disconnect();
  }

  /** Allows use again after `close()` (a broker can be connected again). */
  reopen(): void {
    this.#closed = false;
  }

  #create(): Blocker {
    const blocker: Blocker = { conn: this.#open(), id: undefined };
    blocker.conn.on("close", () => (blocker.id = undefined));
    return blocker;
  }

  // The BLPOP may still be on its way to the server when the timer fires: retry briefly.
  async #interrupt(id: number, done: () => boolean): Promise<void> {
    for (let attempt = 0; attempt < 50 && !done(); attempt++) {
      const unblocked = await this.#unblock(id).catch(() => 0);
      if (unblocked === 1 || done()) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

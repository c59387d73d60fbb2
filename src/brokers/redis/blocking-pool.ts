import type { Redis } from "ioredis";
import type { Logger } from "../../core/logger.js";
import { failed, replied, type CallOutcome } from "./scripts.js";

interface Blocker {
  readonly conn: Redis;
  /** Server-side client id, for CLIENT UNBLOCK; unknown until asked after each (re)connection. */
  id: number | undefined;
  /** The last error the connection reported (a refused connection, a full server...). */
  lastError: Error | undefined;
}

/**
 * How a wait ended. `woke`: the list that had a token; `failed`: Redis refused the BLPOP;
 * `followed`: the reply of the command sent behind the BLPOP (see `wait`), when it came.
 */
export interface WaitOutcome {
  readonly woke?: string;
  readonly failed?: Error;
  readonly followed?: CallOutcome;
}

/** A command written on the blocking connection right behind its BLPOP (see `wait`). */
export type Follow = (conn: Redis) => Promise<unknown>;

/** Without a blocking connection, idle receives look again this often (on the main connection). */
export const POLL_MS = 200;
/** After blocking proved impossible, how long before trying a blocking connection again. */
const RETRY_BLOCKING_MS = 30_000;
/** A BLPOP still unanswered this long after CLIENT UNBLOCK was asked for is given up. */
const UNBLOCK_GRACE_MS = 1000;

/**
 * Blocking connections for idle consumers. A `receive` that finds nothing ready blocks in
 * BLPOP on the queues' notify lists (pushed to by enqueue, requeue and by a consumer that left
 * messages behind) for at most the time until the next delayed message, lease deadline or
 * heartbeat expiry. Each concurrent wait holds its own connection.
 *
 * Every wait races locally against its timer and its abort signals, so no state of a connection
 * (connecting, reconnecting, refused by a full server) can hold a receive, and thus a worker's
 * stop, past its time. Redis checks blocking timeouts only about every 100 ms (its `hz`), too
 * coarse for delays, so the local timer ends the wait on time with CLIENT UNBLOCK (sent on the
 * main connection). A blocking connection that cannot connect within `connectTimeoutMs` makes
 * the pool fall back to short polling (waits of at most POLL_MS, the caller then looks again on
 * its main connection), said once in the log; it tries blocking again later.
 */
export class BlockingPool {
  readonly #open: () => Redis;
  readonly #unblock: (id: number) => Promise<number>;
  readonly #logger: Logger;
  readonly #connectTimeoutMs: number;
  readonly #idle: Blocker[] = [];
  readonly #busy = new Set<Blocker>();
  #closed = false;
  #pollingUntil = 0;
  #saidPolling = false;

  constructor(
    open: () => Redis,
    unblock: (id: number) => Promise<number>,
    logger: Logger,
    connectTimeoutMs: number,
  ) {
    this.#open = open;
    this.#unblock = unblock;
    this.#logger = logger;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** True while blocking is known impossible (waits are short polls). */
  get polling(): boolean {
    return Date.now() < this.#pollingUntil;
  }

  /**
   * Waits until one of the lists receives a token, `timeoutMs` passes or one of the signals
   * aborts; never longer than `timeoutMs` (plus the unblock grace when Redis is slow to answer).
   *
   * `follow`, when given, writes one more command on the same connection right behind the
   * BLPOP. Redis runs a connection's commands in order, so it runs the moment the BLPOP returns
   * (woken, timed out or unblocked), and its reply travels back with the BLPOP's: a wake-up then
   * costs one round trip instead of two. Its reply is awaited whenever the BLPOP's is (also on
   * an abort, within the unblock grace), so that nothing it did goes unreported.
   *
   * `cut` ends the wait early as its timer would (the BLPOP is unblocked, the connection kept):
   * a wait over several cluster slots ends the others' waits so when one wakes.
   */
  async wait(
    keys: readonly string[],
    timeoutMs: number,
    signals: readonly AbortSignal[],
    extra: { readonly follow?: Follow; readonly cut?: AbortSignal } = {},
  ): Promise<WaitOutcome> {
    const { follow, cut } = extra;
    const aborted = (): boolean => signals.some((s) => s.aborted);
    if (this.#closed || aborted() || timeoutMs <= 0) return {};
    if (this.polling) {
      await sleep(Math.min(timeoutMs, POLL_MS), signals);
      return {};
    }
    const blocker = this.#idle.pop() ?? this.#create();
    this.#busy.add(blocker);
    const deadline = Date.now() + timeoutMs;
    let healthy = false;
    let followed: Promise<CallOutcome> | undefined;
    try {
      if (blocker.conn.status !== "ready") {
        const ready = await race(
          once(blocker.conn, "ready"),
          Math.min(timeoutMs, this.#connectTimeoutMs),
          signals,
          cut,
        );
        if (ready !== "done") {
          if (ready === "timeout" && !aborted() && cut?.aborted !== true)
            await this.#cannotBlock(blocker, deadline, signals);
          return {};
        }
      }
      blocker.id ??= Number(await blocker.conn.client("ID"));
      const id = blocker.id;
      const popped = blocker.conn.blpop(...keys, ((timeoutMs + 1000) / 1000).toFixed(3));
      popped.catch(() => {});
      followed = follow ? settled(follow(blocker.conn)) : undefined;
      let outcome = await race(popped, Math.max(0, deadline - Date.now()), signals, cut);
      if (outcome === "timeout" || (outcome === "aborted" && followed)) {
        void this.#interrupt(id, popped);
        outcome = await race(popped, UNBLOCK_GRACE_MS, followed ? [] : signals);
      }
      if (outcome !== "done") return {};
      const reply = await popped;
      let after: CallOutcome | undefined;
      if (followed) {
        if ((await race(followed, UNBLOCK_GRACE_MS, [])) !== "done") return {};
        after = await followed;
      }
      healthy = true;
      const woke = reply ? { woke: reply[0] } : {};
      return after ? { ...woke, followed: after } : woke;
    } catch (error) {
      // A refused BLPOP (a list of the wrong type) fails at once: wait out the time locally, so
      // the caller's next round comes no sooner than it would have.
      const failed = error instanceof Error ? error : new Error(String(error));
      healthy = blocker.conn.status === "ready";
      if (failed.name === "ReplyError") {
        // The command behind it still ran: report what it did.
        const after =
          followed && (await race(followed, UNBLOCK_GRACE_MS, [])) === "done"
            ? await followed
            : undefined;
        if (after?.ok) return { failed, followed: after };
        await sleep(Math.max(0, deadline - Date.now()), signals);
        return { failed };
      }
      return {};
    } finally {
      this.#busy.delete(blocker);
      if (healthy && !aborted() && !this.#closed) this.#idle.push(blocker);
      else blocker.conn.disconnect();
    }
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

  async #cannotBlock(blocker: Blocker, deadline: number, signals: readonly AbortSignal[]) {
    this.#pollingUntil = Date.now() + RETRY_BLOCKING_MS;
    if (!this.#saidPolling) {
      this.#saidPolling = true;
      const why = blocker.lastError?.message ?? "no answer";
      this.#logger.warn(
        `repid redis: the blocking connection could not connect within ${this.#connectTimeoutMs} ms (${why}); idle receives poll every ${POLL_MS} ms on the main connection until it can`,
        { error: why },
      );
    }
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), signals);
  }

  #create(): Blocker {
    const blocker: Blocker = { conn: this.#open(), id: undefined, lastError: undefined };
    blocker.conn.on("close", () => (blocker.id = undefined));
    blocker.conn.on("error", (error: Error) => (blocker.lastError = error));
    blocker.conn.on("ready", () => {
      if (this.#saidPolling) {
        this.#saidPolling = false;
        this.#pollingUntil = 0;
        this.#logger.info(
          "repid redis: the blocking connection is back; idle receives block again",
        );
      }
    });
    blocker.conn.connect().catch(() => {});
    return blocker;
  }

  // The BLPOP may still be on its way to the server when the timer fires: retry briefly.
  async #interrupt(id: number, popped: Promise<unknown>): Promise<void> {
    let done = false;
    void popped.then(
      () => (done = true),
      () => (done = true),
    );
    for (let attempt = 0; attempt < 50 && !done; attempt++) {
      const unblocked = await this.#unblock(id).catch(() => 0);
      if (unblocked === 1 || done) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

function settled(promise: Promise<unknown>): Promise<CallOutcome> {
  return promise.then(replied, failed);
}

function once(conn: Redis, event: string): Promise<void> {
  return new Promise((resolve) => conn.once(event, () => resolve()));
}

/** Races a promise against a local timer and abort signals (`soft` ends it as the timer would); never rejects. */
async function race(
  promise: Promise<unknown>,
  ms: number,
  signals: readonly AbortSignal[],
  soft?: AbortSignal,
): Promise<"done" | "timeout" | "aborted"> {
  if (signals.some((s) => s.aborted)) return "aborted";
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let onSoft: (() => void) | undefined;
  try {
    return await new Promise((resolve) => {
      promise.then(
        () => resolve("done"),
        () => resolve("done"),
      );
      timer = setTimeout(() => resolve("timeout"), ms);
      onAbort = () => resolve("aborted");
      for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
      if (soft) {
        onSoft = () => resolve("timeout");
        if (soft.aborted) onSoft();
        else soft.addEventListener("abort", onSoft, { once: true });
      }
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) for (const s of signals) s.removeEventListener("abort", onAbort);
    if (onSoft) soft?.removeEventListener("abort", onSoft);
  }
}

/** Sleeps `ms`, or less when a signal aborts. */
export async function sleep(ms: number, signals: readonly AbortSignal[]): Promise<void> {
  if (ms > 0) await race(new Promise(() => {}), ms, signals);
}

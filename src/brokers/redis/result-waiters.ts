import { setLongTimeout, type LongTimer } from "../../core/timers.js";
import type { Logger } from "../../core/logger.js";
import type { StoredResult } from "../broker.js";
import type { RedisClient } from "./cluster.js";
import { decodeResult } from "./codec.js";
import { onResubscribed } from "./resubscribed.js";

type Listener = (result: StoredResult | undefined) => void;

interface Pending {
  readonly listeners: Set<Listener>;
  /** Resolves once the subscription is confirmed (or failed: then the waiters read instead). */
  readonly subscribed: Promise<boolean>;
}

/** Reads of a result key without publication: every 50 ms at first, then slower, up to 1 s. */
const READ_FIRST_MS = 50;
const READ_MAX_MS = 1000;

/**
 * Waiters for job results over one subscriber connection. The settle script SETs a result and
 * PUBLISHes it on a channel named like its key; every waiter of a key waits for that key's
 * subscription to be confirmed and then reads the key, so a result stored before or during the
 * wait is never missed, and whatever one waiter finds is handed to all waiters of the key. After
 * a reconnection (when a publish may have been lost) every pending key is read again.
 *
 * Without publication (an ACL user without channel permissions: SUBSCRIBE refused, or PUBLISH
 * known refused at connect), waiters read the key at intervals instead (50 ms growing to 1 s).
 *
 * On a Redis Cluster of Redis 7 or later (`sharded`), results are published with SPUBLISH and
 * waited for with SSUBSCRIBE: the channel lives on the result key's own shard, so no publication
 * crosses the cluster bus. The subscriber (an ioredis Cluster with sharded subscribers) follows
 * the slot map; after its subscribers were rebuilt (a failover) every pending key is read again.
 */
export class ResultWaiters {
  readonly #main: RedisClient;
  readonly #openSubscriber: () => RedisClient;
  readonly #logger: Logger;
  readonly #pending = new Map<string, Pending>();
  #subscriber: RedisClient | undefined;
  /** SSUBSCRIBE instead of SUBSCRIBE (set at connect: a cluster of Redis 7 or later). */
  sharded = false;
  #saidSubscribeRefused = false;
  /** Set at connect when this user may not PUBLISH: results are then never pushed. */
  pushRefused = false;

  constructor(main: RedisClient, openSubscriber: () => RedisClient, logger: Logger) {
    this.#main = main;
    this.#openSubscriber = openSubscriber;
    this.#logger = logger;
  }

  wait(
    key: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    const { signal } = options;
    return new Promise((resolve) => {
      let pending = this.#pending.get(key);
      if (!pending) {
        pending = { listeners: new Set(), subscribed: this.#subscribe(key) };
        this.#pending.set(key, pending);
      }
      const entry = pending;
      let timer: LongTimer | undefined;
      let poll: NodeJS.Timeout | undefined;
      const done: Listener = (result) => {
        if (!entry.listeners.delete(done)) return;
        timer?.clear();
        clearTimeout(poll);
        signal?.removeEventListener("abort", onAbort);
        if (entry.listeners.size === 0 && this.#pending.get(key) === entry) {
          this.#pending.delete(key);
          const sub = this.#subscriber;
          if (sub) (this.sharded ? sub.sunsubscribe(key) : sub.unsubscribe(key)).catch(() => {});
        }
        resolve(result);
      };
      const onAbort = (): void => done(undefined);
      entry.listeners.add(done);
      timer = setLongTimeout(() => done(undefined), Math.max(0, options.timeoutMs));
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) {
        // Still answer with a result already stored, as the in-memory broker does.
        this.#read(key).then(
          (r) => done(r),
          () => done(undefined),
        );
        return;
      }
      const readNow = (): Promise<boolean> =>
        this.#read(key).then(
          (r) => {
            if (r) this.#deliver(key, r);
            return r !== undefined;
          },
          () => false,
        );
      void entry.subscribed.then(async (pushed) => {
        const found = await readNow();
        if (found || (pushed && !this.pushRefused)) return;
        // No publication to wait for: read at intervals until found, timed out or aborted.
        let every = READ_FIRST_MS;
        const again = (): void => {
          poll = setTimeout(() => {
            void readNow().then((hit) => {
              if (!hit && entry.listeners.has(done)) again();
            });
          }, every);
          every = Math.min(READ_MAX_MS, every * 2);
        };
        if (entry.listeners.has(done)) again();
      });
    });
  }

  /** Resolves every pending waiter with `undefined` and closes the subscriber. */
  async close(): Promise<void> {
    for (const p of [...this.#pending.values()]) for (const l of [...p.listeners]) l(undefined);
    this.#pending.clear();
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  async #subscribe(key: string): Promise<boolean> {
    if (this.pushRefused) return false;
    try {
      const sub = this.#sub();
      await (this.sharded ? sub.ssubscribe(key) : sub.subscribe(key));
      return true;
    } catch (error) {
      if (!this.#saidSubscribeRefused) {
        this.#saidSubscribeRefused = true;
        this.#logger.warn(
          `repid redis: could not SUBSCRIBE to result channels (${error instanceof Error ? error.message : String(error)}): result waiters read the result keys at intervals instead`,
        );
      }
      return false;
    }
  }

  async #read(key: string): Promise<StoredResult | undefined> {
    return decodeResult(await this.#main.get(key));
  }

  #deliver(key: string, result: StoredResult | undefined): void {
    if (!result) return;
    const pending = this.#pending.get(key);
    if (pending) for (const l of [...pending.listeners]) l(result);
  }

  #readPending(): void {
    for (const key of this.#pending.keys())
      this.#read(key).then(
        (r) => this.#deliver(key, r),
        () => {},
      );
  }

  #sub(): RedisClient {
    if (this.#subscriber) return this.#subscriber;
    const sub = this.#openSubscriber();
    sub.on(this.sharded ? "smessage" : "message", (channel: string, message: string) =>
      this.#deliver(channel, decodeResult(message)),
    );
    onResubscribed(sub, this.sharded, () => this.#readPending());
    this.#subscriber = sub;
    return sub;
  }
}

import type { Redis } from "ioredis";
import type { StoredResult } from "../broker.js";
import { decodeResult } from "./codec.js";

type Listener = (result: StoredResult | undefined) => void;

/**
 * Waiters for job results over one subscriber connection. The settle script SETs a result and
 * PUBLISHes it on a channel named like its key; a waiter SUBSCRIBEs first and reads the key only
 * once the subscription is confirmed, so a result stored before or during the wait is never
 * missed. After a reconnection (when a publish may have been lost) every pending key is read
 * again. No polling anywhere.
 */
export class ResultWaiters {
  readonly #main: Redis;
  readonly #openSubscriber: () => Redis;
  readonly #listeners = new Map<string, Set<Listener>>();
  #subscriber: Redis | undefined;

  constructor(main: Redis, openSubscriber: () => Redis) {
    this.#main = main;
    this.#openSubscriber = openSubscriber;
  }

  wait(
    key: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    const { signal } = options;
    return new Promise((resolve) => {
      let listeners = this.#listeners.get(key);
      const first = !listeners;
      if (!listeners) this.#listeners.set(key, (listeners = new Set()));
      const set = listeners;
      let timer: NodeJS.Timeout | undefined;
      const done: Listener = (result) => {
        if (!set.delete(done)) return;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (set.size === 0 && this.#listeners.get(key) === set) {
          this.#listeners.delete(key);
          this.#subscriber?.unsubscribe(key).catch(() => {});
        }
        resolve(result);
      };
      const onAbort = (): void => done(undefined);
      set.add(done);
      timer = setTimeout(() => done(undefined), Math.max(0, options.timeoutMs));
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) {
        // Still answer with a result already stored, as the in-memory broker does.
        this.#read(key).then(
          (r) => done(r),
          () => done(undefined),
        );
        return;
      }
      const subscribed = first ? this.#sub().subscribe(key) : Promise.resolve();
      subscribed
        .then(() => this.#read(key))
        .then(
          (r) => {
            if (r) done(r);
          },
          // A failing subscription or read leaves the waiter to its timeout; a reconnection re-reads.
          () => {},
        );
    });
  }

  /** Resolves every pending waiter with `undefined` and closes the subscriber. */
  async close(): Promise<void> {
    for (const set of [...this.#listeners.values()]) for (const l of [...set]) l(undefined);
    this.#listeners.clear();
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  async #read(key: string): Promise<StoredResult | undefined> {
    return decodeResult(await this.#main.get(key));
  }

  #deliver(key: string, result: StoredResult | undefined): void {
    if (!result) return;
    const set = this.#listeners.get(key);
    if (set) for (const l of [...set]) l(result);
  }

  #sub(): Redis {
    if (this.#subscriber) return this.#subscriber;
    const sub = this.#openSubscriber();
    let connectedOnce = false;
    sub.on("message", (channel: string, message: string) =>
      this.#deliver(channel, decodeResult(message)),
    );
    sub.on("ready", () => {
      if (!connectedOnce) {
        connectedOnce = true;
        return;
      }
      // ioredis resubscribes by itself before this event; the PING answers after those
      // subscriptions are confirmed, and then results published while we were away are read.
      sub
        .ping()
        .then(() => {
          for (const key of this.#listeners.keys())
            this.#read(key).then(
              (r) => this.#deliver(key, r),
              () => {},
            );
        })
        .catch(() => {});
    });
    this.#subscriber = sub;
    return sub;
  }
}

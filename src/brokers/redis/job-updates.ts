import type { JobUpdate } from "../broker.js";
import type { RedisClient } from "./cluster.js";
import type { KeySpace } from "./connection.js";
import { wrapErrors } from "./redis-errors.js";

type Listener = (update: JobUpdate) => void;

/**
 * Job updates on Redis: a job's last update is kept in `<prefix>:{<queue>}:update:<id>` (SET PX)
 * and announced on a channel of the same name (SPUBLISH on a cluster of Redis 7+, `sharded`).
 * Watchers listen on one subscriber connection of their own, opened at the first watch and
 * closed by `close()`. Methods are bound, for the broker to hand out as its own.
 */
export class JobUpdates {
  readonly #client: RedisClient;
  readonly #keys: KeySpace;
  readonly #open: () => RedisClient;
  readonly #sharded: () => boolean;
  readonly #listeners = new Map<string, Set<Listener>>();
  #subscriber: RedisClient | undefined;

  constructor(options: {
    readonly client: RedisClient;
    readonly keys: KeySpace;
    readonly openSubscriber: () => RedisClient;
    readonly sharded: () => boolean;
  }) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#open = options.openSubscriber;
    this.#sharded = options.sharded;
  }

  #key(queue: string, id: string): string {
    this.#keys.queue(queue); // checks the queue name
    return `${this.#keys.prefix}:{${queue}}:update:${id}`;
  }

  readonly publish = async (
    queue: string,
    id: string,
    update: JobUpdate,
    ttlMs: number,
  ): Promise<void> => {
    const key = this.#key(queue, id);
    const text = JSON.stringify(update);
    // Sent together: one connection keeps their order. A refused announcement (an ACL user
    // without channel permissions) leaves watchers without it, the kept update still reads.
    await Promise.all([
      wrapErrors("store job update", () =>
        this.#client.set(key, text, "PX", Math.max(1, Math.ceil(ttlMs))),
      ),
      this.#client.call(this.#sharded() ? "SPUBLISH" : "PUBLISH", key, text).catch(() => 0),
    ]);
  };

  readonly read = async (queue: string, id: string): Promise<JobUpdate | undefined> => {
    const key = this.#key(queue, id);
    return decode(await wrapErrors("read job update", () => this.#client.get(key)));
  };

  readonly watch = async (
    queue: string,
    id: string,
    listener: Listener,
    signal: AbortSignal,
  ): Promise<void> => {
    if (signal.aborted) return;
    const key = this.#key(queue, id);
    let set = this.#listeners.get(key);
    if (!set) this.#listeners.set(key, (set = new Set()));
    const mine = set;
    const entry: Listener = (update) => listener(update);
    mine.add(entry);
    signal.addEventListener(
      "abort",
      () => {
        mine.delete(entry);
        if (mine.size > 0 || this.#listeners.get(key) !== mine) return;
        this.#listeners.delete(key);
        const sub = this.#subscriber;
        if (sub) (this.#sharded() ? sub.sunsubscribe(key) : sub.unsubscribe(key)).catch(() => {});
      },
      { once: true },
    );
    const sub = this.#sub();
    // Every watcher waits for the subscription (SUBSCRIBE again is harmless, and answers once
    // the channel is listened to).
    await wrapErrors("watch job updates", () =>
      this.#sharded() ? sub.ssubscribe(key) : sub.subscribe(key),
    );
  };

  /** Forgets every watcher and closes the subscriber. */
  async close(): Promise<void> {
    this.#listeners.clear();
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  #sub(): RedisClient {
    if (this.#subscriber) return this.#subscriber;
    const sub = this.#open();
    sub.on(this.#sharded() ? "smessage" : "message", (channel: string, message: string) => {
      const update = decode(message);
      if (!update) return;
      for (const listener of [...(this.#listeners.get(channel) ?? [])]) listener(update);
    });
    this.#subscriber = sub;
    return sub;
  }
}

function decode(text: string | null): JobUpdate | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as JobUpdate;
  } catch {
    return undefined;
  }
}

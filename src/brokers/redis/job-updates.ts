import type { JobUpdate } from "../broker.js";
import type { RedisClient } from "./cluster.js";
import type { KeySpace } from "./connection.js";
import { wrapErrors } from "./redis-errors.js";
import { onResubscribed } from "./resubscribed.js";

type Listener = (update: JobUpdate) => void;

/**
 * Job updates on Redis: a job's last update is kept in `<prefix>:{<queue>}:update:<id>` (SET PX)
 * and announced on a channel of the same name (SPUBLISH on a cluster of Redis 7+, `sharded`).
 * Watchers listen on one subscriber connection of their own, opened at the first watch and
 * closed by `close()`. After that connection was lost and is back (subscribed again), each
 * watched job's kept update is read and handed to its watchers unless it is the last one they
 * got or older (see `news`): an update published meanwhile is not missed. Methods are bound, for the broker
 * to hand out as its own.
 */
export class JobUpdates {
  readonly #client: RedisClient;
  readonly #keys: KeySpace;
  readonly #open: () => RedisClient;
  readonly #sharded: () => boolean;
  readonly #listeners = new Map<string, Set<Listener>>();
  /** The last update handed to each watched key's listeners. */
  readonly #seen = new Map<string, JobUpdate>();
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
        this.#seen.delete(key);
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
    this.#seen.clear();
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  #sub(): RedisClient {
    if (this.#subscriber) return this.#subscriber;
    const sub = this.#open();
    const sharded = this.#sharded();
    sub.on(sharded ? "smessage" : "message", (channel: string, message: string) =>
      this.#deliver(channel, decode(message)),
    );
    onResubscribed(sub, sharded, () => {
      for (const key of this.#listeners.keys())
        this.#client.get(key).then(
          (text) => this.#deliver(key, decode(text), true),
          () => {},
        );
    });
    this.#subscriber = sub;
    return sub;
  }

  /** Hands `update` to the key's watchers; one read again only when it is news to them. */
  #deliver(key: string, update: JobUpdate | undefined, reread = false): void {
    const listeners = this.#listeners.get(key);
    if (!update || !listeners) return;
    const before = this.#seen.get(key);
    if (reread && before && !news(update, before)) return;
    this.#seen.set(key, update);
    for (const listener of [...listeners]) listener(update);
  }
}

/**
 * Whether `a`, read again, is news after `b`: a later attempt, or the same attempt published
 * later, or at the same millisecond but different (a fast job's progress and end).
 */
function news(a: JobUpdate, b: JobUpdate): boolean {
  if (a.attempt !== b.attempt) return a.attempt > b.attempt;
  if (a.at !== b.at) return a.at > b.at;
  return a.state !== b.state || a.progress !== b.progress;
}

function decode(text: string | null): JobUpdate | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as JobUpdate;
  } catch {
    return undefined;
  }
}

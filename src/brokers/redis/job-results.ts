import type { KeptResult, MessageBroker, StoredResult } from "../broker.js";
import { queueNames } from "./admin.js";
import type { RedisClient } from "./cluster.js";
import { decodeResult, encodeResult } from "./codec.js";
import type { KeySpace } from "./connection.js";
import { wrapErrors } from "./redis-errors.js";
import type { ResultWaiters } from "./result-waiters.js";

/**
 * Job results as the Redis broker reads them. A result is kept under its job's queue (its key
 * shares the queue's hash tag, so settle.lua writes it in the same step as the settlement): given
 * the queue, a read or wait goes straight to the key; without it, the job's queue is first looked
 * for among the declared queues. Methods are bound, for the broker to hand out as its own.
 */
export class JobResults {
  readonly #client: RedisClient;
  readonly #keys: KeySpace;
  readonly #waiters: ResultWaiters;
  readonly #sharded: () => boolean;

  constructor(options: {
    readonly client: RedisClient;
    readonly keys: KeySpace;
    readonly waiters: ResultWaiters;
    /** Announced with SPUBLISH (a cluster of Redis 7+), else PUBLISH. */
    readonly sharded: () => boolean;
  }) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#waiters = options.waiters;
    this.#sharded = options.sharded;
  }

  /**
   * The stored result of job `id`. Results are kept under their queue: pass `queue` (a
   * `JobHandle` does); without it the job's queue is first looked for among the declared queues
   * (one read per queue).
   */
  readonly read = async (
    id: string,
    options: { readonly queue?: string } = {},
  ): Promise<StoredResult | undefined> => {
    const queue = options.queue ?? (await this.#locate(id));
    if (queue === undefined) return undefined;
    return decodeResult(
      await wrapErrors("read result", () => this.#client.get(this.#keys.result(queue, id))),
    );
  };

  /**
   * Stores job `id`'s result now, apart from a settlement (a flow keeps a step's result before it
   * settles the step), under `queue`: SET PX, then announced on the key's channel as settle.lua
   * does; a refused announcement leaves waiters to read the key.
   */
  readonly store = async (
    id: string,
    kept: KeptResult,
    options: { readonly queue: string },
  ): Promise<void> => {
    const key = this.#keys.result(options.queue, id);
    const value = encodeResult(kept.stored);
    await wrapErrors("store result", () =>
      this.#client.set(key, value, "PX", Math.max(1, Math.ceil(kept.ttlMs))),
    );
    const publish = this.#sharded() ? "SPUBLISH" : "PUBLISH";
    await this.#client.call(publish, key, value).catch(() => undefined);
  };

  /** Removes job `id`'s kept result under `queue` (DEL; nothing kept is no error). */
  readonly remove = async (id: string, options: { readonly queue: string }): Promise<void> => {
    const key = this.#keys.result(options.queue, id);
    await wrapErrors("delete result", () => this.#client.del(key));
  };

  /**
   * Waits for job `id`'s result (see `read` for `queue`). Without `queue`, while the job is
   * found in no declared queue (not enqueued yet), it looks again at growing intervals.
   */
  readonly wait = async (
    id: string,
    options: Parameters<MessageBroker["waitForResult"]>[1],
  ): Promise<StoredResult | undefined> => {
    if (options.queue !== undefined)
      return this.#waiters.wait(this.#keys.result(options.queue, id), options);
    const deadline = Date.now() + Math.max(0, options.timeoutMs);
    for (let every = 50; ; every = Math.min(1000, every * 2)) {
      const queue = await this.#locate(id);
      if (queue !== undefined) {
        return this.#waiters.wait(this.#keys.result(queue, id), {
          ...options,
          timeoutMs: Math.max(0, deadline - Date.now()),
        });
      }
      const left = deadline - Date.now();
      if (left <= 0 || options.signal?.aborted) return undefined;
      await new Promise((resolve) => setTimeout(resolve, Math.min(every, left)));
    }
  };

  /** The declared queue holding job `id` (its message or its result), if any. */
  async #locate(id: string): Promise<string | undefined> {
    return wrapErrors("find the job's queue", async () => {
      const names = await queueNames(this.#client, this.#keys.prefix);
      const found = await Promise.all(
        names.map(async (q) => {
          const k = this.#keys.queue(q);
          const [inQueue, hasResult] = await Promise.all([
            this.#client.hexists(k.msg, id),
            this.#client.exists(this.#keys.result(q, id)),
          ]);
          return inQueue === 1 || hasResult === 1;
        }),
      );
      return names[found.indexOf(true)];
    });
  }
}

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
 * for among the declared queues.
 */
export class JobResults {
  readonly #client: RedisClient;
  readonly #keys: KeySpace;
  readonly #waiters: ResultWaiters;

  constructor(client: RedisClient, keys: KeySpace, waiters: ResultWaiters) {
    this.#client = client;
    this.#keys = keys;
    this.#waiters = waiters;
  }

  /** See `RedisMessageBroker.readResult`. */
  async read(id: string, options: { readonly queue?: string }): Promise<StoredResult | undefined> {
    const queue = options.queue ?? (await this.#locate(id));
    if (queue === undefined) return undefined;
    return decodeResult(
      await wrapErrors("read result", () => this.#client.get(this.#keys.result(queue, id))),
    );
  }

  /**
   * See `RedisMessageBroker.storeResult`: SET PX, then announced on the key's channel as
   * settle.lua does (`sharded`: SPUBLISH); a refused announcement leaves waiters to read the key.
   */
  async store(id: string, kept: KeptResult, queue: string, sharded: boolean): Promise<void> {
    const key = this.#keys.result(queue, id);
    const value = encodeResult(kept.stored);
    await wrapErrors("store result", () =>
      this.#client.set(key, value, "PX", Math.max(1, Math.ceil(kept.ttlMs))),
    );
    await this.#client.call(sharded ? "SPUBLISH" : "PUBLISH", key, value).catch(() => undefined);
  }

  /** See `RedisMessageBroker.waitForResult`. */
  async wait(
    id: string,
    options: Parameters<MessageBroker["waitForResult"]>[1],
  ): Promise<StoredResult | undefined> {
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
  }

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

import { setLongTimeout } from "../core/timers.js";
import { Redis, type Cluster, type RedisOptions } from "ioredis";
import { isCluster, type RedisClient } from "../brokers/redis/cluster.js";
import { clusterFromUrls } from "../brokers/redis/cluster-connection.js";
import type { ResultStore, StoredResult } from "../brokers/broker.js";
import { decodeResult, encodeResult } from "../brokers/redis/codec.js";
import { BrokerError } from "../core/errors.js";
import { AdoptedLogger, type Logger } from "../core/logger.js";

/** Options of `RedisResultStore`. */
export interface RedisResultStoreOptions {
  /** Prefix of every key and channel. @defaultValue "repid" */
  readonly prefix?: string;
  /** ioredis options for the two connections it opens (ignored when given a client). */
  readonly redis?: RedisOptions;
  /** @defaultValue the logger of the first `Connection` built on it (`defaultLogger` until then) */
  readonly logger?: Logger;
}

type Listener = (result: StoredResult | undefined) => void;

/**
 * Results in Redis (`<prefix>:result:<id>`, with their time to live), for brokers that keep none
 * (RabbitMQ) or to share results between brokers. Storing SETs the key and PUBLISHes it on a
 * channel of the same name; a waiter subscribes first and then reads the key, so a result stored
 * before or during the wait is never missed, and nothing polls. After a reconnection every
 * pending key is read again (a publication may have been lost meanwhile).
 *
 * On a Redis Cluster (an ioredis `Cluster`, or node URLs separated by commas), each result is one
 * key, so one slot, and is published with plain PUBLISH, which the cluster forwards to the
 * subscriber wherever it listens.
 * @example new Connection(new RabbitMessageBroker(url), { results: new RedisResultStore("redis://127.0.0.1:6379") })
 */
export class RedisResultStore implements ResultStore {
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #make: () => RedisClient;
  readonly #owned: boolean;
  readonly #waiters = new Map<string, Set<Listener>>();
  #main: RedisClient | undefined;
  #subscriber: RedisClient | undefined;

  /**
   * @param redis a Redis URL (several, separated by commas, for a Redis Cluster), or an ioredis
   * client (`Redis` or `Cluster`) to reuse for reads and writes (not closed).
   */
  constructor(redis: string | Redis | Cluster, options: RedisResultStoreOptions = {}) {
    this.#prefix = options.prefix ?? "repid";
    this.#logger = options.logger ?? new AdoptedLogger();
    this.#owned = typeof redis === "string";
    if (typeof redis === "string" && redis.includes(",")) {
      const url = redis;
      this.#make = () => clusterFromUrls(url, `${this.#prefix}:results`);
    } else if (typeof redis === "string") {
      const url = redis;
      this.#make = () => new Redis(url, { lazyConnect: true, ...options.redis });
    } else if (isCluster(redis)) {
      const cluster = redis;
      this.#main = cluster;
      this.#make = () => cluster.duplicate();
    } else {
      this.#main = redis;
      this.#make = () => redis.duplicate();
    }
  }

  /** @see ResultStore.useLogger */
  useLogger(logger: Logger): void {
    if (this.#logger instanceof AdoptedLogger) this.#logger.adopt(logger);
  }

  async connect(): Promise<void> {
    if (this.#subscriber) return;
    const main = (this.#main ??= this.#make());
    const subscriber = (this.#subscriber = this.#make());
    for (const client of this.#owned ? [main, subscriber] : [subscriber]) {
      client.on("error", (error: unknown) =>
        this.#logger.warn("repid: result store connection error", { error }),
      );
    }
    subscriber.on("message", (channel: string, raw: string) => this.#deliver(channel, raw));
    // Resubscribed after a reconnection: a publication may have been missed, so read again.
    subscriber.on("ready", () => {
      for (const key of this.#waiters.keys()) void this.#readAndDeliver(key);
    });
    try {
      if (this.#owned && main.status === "wait") await main.connect();
      if (subscriber.status === "wait") await subscriber.connect();
    } catch (error) {
      throw new BrokerError("Could not connect the Redis result store", { cause: error });
    }
  }

  async disconnect(): Promise<void> {
    for (const listeners of [...this.#waiters.values()])
      for (const listener of [...listeners]) listener(undefined);
    this.#waiters.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    subscriber?.disconnect();
    if (this.#owned) {
      this.#main?.disconnect();
      this.#main = undefined;
    }
  }

  async store(id: string, result: StoredResult, ttlMs: number): Promise<void> {
    const key = this.#key(id);
    const value = encodeResult(result);
    await this.#client()
      .multi()
      .set(key, value, "PX", Math.max(1, Math.ceil(ttlMs)))
      .publish(key, value)
      .exec();
  }

  async read(id: string): Promise<StoredResult | undefined> {
    return decodeResult(await this.#client().get(this.#key(id)));
  }

  async delete(id: string): Promise<void> {
    await this.#client().del(this.#key(id));
  }

  wait(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    const key = this.#key(id);
    const subscriber = this.#subscriber;
    if (!subscriber) return Promise.reject(new BrokerError("The result store is not connected"));
    return new Promise((resolve) => {
      let listeners = this.#waiters.get(key);
      const first = !listeners;
      if (!listeners) this.#waiters.set(key, (listeners = new Set()));
      const set = listeners;
      const done: Listener = (result) => {
        if (!set.delete(done)) return;
        timer.clear();
        options.signal?.removeEventListener("abort", onAbort);
        if (set.size === 0 && this.#waiters.get(key) === set) {
          this.#waiters.delete(key);
          subscriber.unsubscribe(key).catch(() => {});
        }
        resolve(result);
      };
      const onAbort = (): void => done(undefined);
      const timer = setLongTimeout(() => done(undefined), Math.max(0, options.timeoutMs));
      set.add(done);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      // Subscribed first, read second: a result stored in between is published to us.
      const subscribed = first ? subscriber.subscribe(key) : Promise.resolve();
      subscribed.then(
        () => this.#readAndDeliver(key),
        (error: unknown) => {
          this.#logger.error("repid: subscribing to a result failed", { error, id });
          done(undefined);
        },
      );
    });
  }

  #client(): RedisClient {
    if (!this.#main) throw new BrokerError("The result store is not connected");
    return this.#main;
  }

  async #readAndDeliver(key: string): Promise<void> {
    try {
      const raw = await this.#client().get(key);
      if (raw !== null) this.#deliver(key, raw);
    } catch (error) {
      this.#logger.warn("repid: reading a result failed", { error, key });
    }
  }

  #deliver(key: string, raw: string): void {
    const result = decodeResult(raw);
    const listeners = this.#waiters.get(key);
    if (!result || !listeners) return;
    for (const listener of [...listeners]) listener(result);
  }

  #key(id: string): string {
    return `${this.#prefix}:result:${id}`;
  }
}

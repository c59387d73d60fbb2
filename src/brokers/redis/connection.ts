import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { InvalidOptionError } from "../../core/errors.js";
import { checkQueueName } from "../../core/validate.js";
import type { Logger } from "../../core/logger.js";
import { isCluster, type RedisClient } from "./cluster.js";
import { clusterFromUrls } from "./cluster-connection.js";

/**
 * Where the Redis broker connects: a `redis://` / `rediss://` URL, several of them separated by
 * commas (the nodes of a Redis Cluster), ioredis options, or a client: an ioredis `Redis` or
 * `Cluster`.
 */
export type RedisConnectionInput = string | RedisOptions | Redis | Cluster;

/**
 * Defaults for the connections the broker opens itself (a client you pass is used as it is).
 *
 * - `enableOfflineQueue: true`: a command issued while the connection is down waits for the
 *   reconnection instead of failing at once, so a short blip (a Redis restart) is invisible.
 * - `maxRetriesPerRequest: 10`: after about 20 s of reconnection attempts, waiting commands fail
 *   (with a `BrokerError` from the broker) instead of hanging: an `enqueue` during a long outage
 *   fails loudly; it never reports success for a message that was not stored.
 * - `lazyConnect: true`: nothing connects before `connect()` or the first command.
 */
export const DEFAULT_CLIENT_OPTIONS: RedisOptions = Object.freeze({
  enableOfflineQueue: true,
  maxRetriesPerRequest: 10,
  lazyConnect: true,
});

/** Builds the main client; `owned` says whether the broker may close it. */
export function createClient(
  input: RedisConnectionInput,
  name: string,
): { client: RedisClient; owned: boolean } {
  if (input instanceof Redis) return { client: input, owned: false };
  if (input instanceof Cluster || (input as { isCluster?: unknown }).isCluster === true)
    return { client: input as Cluster, owned: false };
  if (typeof input === "string") {
    if (input.includes(",")) return { client: clusterFromUrls(input, name), owned: true };
    if (!/^rediss?:\/\//.test(input)) {
      throw new InvalidOptionError(
        "url",
        `expected a redis:// or rediss:// URL, got ${JSON.stringify(input)}`,
      );
    }
    // ioredis reads host, port, user, password, db index and (for rediss://) TLS from the URL.
    return {
      client: new Redis(input, { ...DEFAULT_CLIENT_OPTIONS, connectionName: name }),
      owned: true,
    };
  }
  const proto: unknown =
    input === null || typeof input !== "object" ? undefined : Object.getPrototypeOf(input);
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidOptionError(
      "connection",
      "expected a redis:// URL, a plain ioredis options object or an ioredis client",
    );
  }
  return {
    // Re-sending unanswered commands stays on: with it off, ioredis 6 never settles the
    // commands in flight when a connection drops (their callers would wait for ever).
    client: new Redis({
      ...DEFAULT_CLIENT_OPTIONS,
      connectionName: name,
      ...input,
      autoResendUnfulfilledCommands: true,
    }),
    owned: true,
  };
}

/**
 * Another connection with the main client's settings (blocking reads, subscriptions, the
 * keep-alive thread's). Its commands may wait through reconnections: the broker races every wait
 * on it locally, so none can hold a caller past its own deadline.
 */
export function duplicateClient<C extends RedisClient>(
  client: C,
  name: string,
  connectTimeoutMs: number,
): C {
  if (isCluster(client)) {
    const options: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: true,
      redisOptions: {
        ...client.options.redisOptions,
        maxRetriesPerRequest: null,
        connectTimeout: connectTimeoutMs,
        connectionName: name,
      },
    };
    return client.duplicate(undefined, options) as C;
  }
  return (client as Redis).duplicate({
    lazyConnect: true,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectTimeout: connectTimeoutMs,
    connectionName: name,
  }) as C;
}

/**
 * The connection for result subscriptions: a duplicate of the main client, or on a cluster whose
 * results are published with SPUBLISH (`sharded`: Redis 7+), one with sharded subscribers.
 */
export function subscriberClient(
  client: RedisClient,
  name: string,
  connectTimeoutMs: number,
  sharded: boolean,
): RedisClient {
  if (!isCluster(client) || !sharded) return duplicateClient(client, name, connectTimeoutMs);
  return client.duplicate(undefined, {
    lazyConnect: true,
    enableOfflineQueue: true,
    shardedSubscribers: true,
    redisOptions: {
      ...client.options.redisOptions,
      maxRetriesPerRequest: null,
      connectTimeout: connectTimeoutMs,
      connectionName: name,
    },
  });
}

/** Routes a client's `error` events to the logger (ioredis prints them to stderr otherwise). */
export function logErrors(client: RedisClient, logger: Logger, role: string): void {
  client.on("error", (error: Error) => {
    logger.warn(`repid redis ${role} connection error: ${error.message}`, {
      role,
      error: error.message,
    });
  });
}

/** Every key of one queue; the `{queue}` hash tag keeps them in one Redis Cluster slot. */
export interface QueueKeys {
  readonly declared: string;
  readonly seq: string;
  readonly msg: string;
  readonly lease: string;
  /**
   * Ready messages that came back to an earlier place (requeued, recovered, promoted from
   * delayed, periodic, replayed), by priority and seq. Fresh messages wait in `fresh`.
   */
  readonly ready: string;
  /**
   * Fresh immediate messages, one list per priority (0, 1, 2), in seq order: a list entry costs
   * a third of a sorted-set member. Consumers take the smallest (priority, seq) of both.
   */
  readonly fresh: readonly [string, string, string];
  readonly delayed: string;
  readonly running: string;
  readonly dead: string;
  readonly notify: string;
  /** Periodic ids -> their schedule (JSON): `schedules()` reads no other message. */
  readonly sched: string;
  /** Consumer -> heartbeat expiry (queue time, see scripts/common.lua). */
  readonly consumers: string;
  /** The queue's clock: last script run and the stall credit. */
  readonly clock: string;
  /** The first KEYS of every consumer-side script, in this order (see `state_keys` in Lua). */
  readonly state: readonly string[];
  /** The KEYS of enqueue.lua before its dedupe windows, in its order (shared: never changed). */
  readonly enqueue: readonly string[];
  /** The KEYS of enqueue-one.lua for a message of each priority (0-2), in its order. */
  readonly enqueueOne: readonly (readonly string[])[];
  /** Key remembering one call's outcome for a while (answers a call ioredis sends again). */
  memo(call: string): string;
  /** Key holding a job id's dedupe window (its value: the enqueue call that opened it). */
  dedupe(id: string): string;
  /** Start of the queue's result keys (`<prefix>:{<queue>}:result:`), followed by a job id. */
  readonly resultBase: string;
}

/** Builds and caches the key names of each queue under one prefix. */
export class KeySpace {
  readonly prefix: string;
  readonly #queues = new Map<string, QueueKeys>();

  constructor(prefix: string) {
    if (prefix.length === 0 || /[{}\s]/.test(prefix)) {
      throw new InvalidOptionError(
        "prefix",
        `expected a non-empty prefix without braces or spaces, got ${JSON.stringify(prefix)}`,
      );
    }
    this.prefix = prefix;
  }

  queue(name: string): QueueKeys {
    let keys = this.#queues.get(name);
    if (keys) return keys;
    checkQueueName(name);
    const base = `${this.prefix}:{${name}}:`;
    const k = (suffix: string): string => base + suffix;
    const state = [
      k("msg"),
      k("lease"),
      k("ready"),
      k("delayed"),
      k("running"),
      k("dead"),
      k("notify"),
      k("sched"),
      k("consumers"),
      k("clock"),
      k("fresh:0"),
      k("fresh:1"),
      k("fresh:2"),
    ];
    keys = {
      declared: k("declared"),
      seq: k("seq"),
      msg: state[0]!,
      lease: state[1]!,
      ready: state[2]!,
      delayed: state[3]!,
      running: state[4]!,
      dead: state[5]!,
      notify: state[6]!,
      sched: state[7]!,
      consumers: state[8]!,
      clock: state[9]!,
      fresh: [state[10]!, state[11]!, state[12]!],
      state,
      enqueue: [
        k("declared"),
        k("seq"),
        state[0]!,
        state[2]!,
        state[3]!,
        state[6]!,
        state[1]!,
        state[7]!,
        state[10]!,
        state[11]!,
        state[12]!,
        state[9]!,
      ],
      enqueueOne: [state[10]!, state[11]!, state[12]!].map((fresh) => [
        k("declared"),
        k("seq"),
        state[0]!,
        fresh,
        state[6]!,
        state[9]!,
      ]),
      memo: (call) => k(`memo:${call}`),
      dedupe: (id) => k(`dedupe:${id}`),
      resultBase: k("result:"),
    };
    this.#queues.set(name, keys);
    return keys;
  }

  /**
   * Key (and pub/sub channel) of a job's stored result, under its queue's hash tag: the settle
   * script writes it in the same atomic step as the settlement, which a cluster allows only
   * within one slot.
   */
  result(queue: string, id: string): string {
    return `${this.queue(queue).resultBase}${id}`;
  }
}

import { InvalidOptionError } from "../../core/errors.js";
import { AdoptedLogger, type Logger } from "../../core/logger.js";
import type {
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  KeepAlive,
  MessageBroker,
  OutgoingMessage,
  QueueCounts,
  ReceiveOptions,
  ScheduleInfo,
  Settlement,
  StoredResult,
} from "../broker.js";
import type { BrokerAdmin, Cancelled } from "../admin.js";
import { queueNames, RedisAdmin } from "./admin.js";
import { BlockingPool } from "./blocking-pool.js";
import { isCluster, type RedisClient } from "./cluster.js";
import { ClusterBlocking } from "./cluster-blocking.js";
import { decodeDeadLetter, decodeResult } from "./codec.js";
import {
  createClient,
  duplicateClient,
  KeySpace,
  logErrors,
  type QueueKeys,
  type RedisConnectionInput,
} from "./connection.js";
import { Enqueuer } from "./enqueuer.js";
import { heartbeatCalls, heartbeatGroups, heartbeatKeys, startKeepAlive } from "./keep-alive.js";
import { buildRenewCalls, buildSettleCalls, readSchedules } from "./operations.js";
import { checkServer, connectClient, untilReady } from "./preflight.js";
import { HOUSEKEEPING_LIMIT, Receiver } from "./receiver.js";
import { brokerError } from "./redis-errors.js";
import { waitForReplicas, type ReplicaAcks } from "./replicas.js";
import { runResending } from "./resend.js";
import { ResultWaiters } from "./result-waiters.js";
import { ScriptRunner, type CallOutcome, type ScriptCall } from "./scripts.js";
import { SpentMemos } from "./spent-memos.js";

export type { RedisConnectionInput } from "./connection.js";
export type { ReplicaAcks } from "./replicas.js";
export { RedisBrokerError } from "./redis-errors.js";

/** Options of {@link RedisMessageBroker}. */
export interface RedisBrokerOptions {
  /** Namespace of every key (`<prefix>:{<queue>}:...`); distinct prefixes never interact. @defaultValue "repid" */
  readonly prefix?: string;
  /** Lease expiries allowed before a message is dead-lettered as `STALLED`. @defaultValue 3 */
  readonly maxStalls?: number;
  /** Dead letters kept per queue; the oldest go first. @defaultValue 10_000 */
  readonly maxDeadLetters?: number;
  /** Longest single block of an idle `receive` before it looks again, in ms. @defaultValue 1000 */
  readonly maxBlockMs?: number;
  /**
   * How long `connect()` and a blocking connection may take to connect, in ms. Past it, `connect()`
   * fails with Redis's last error, and idle receives poll instead of blocking. @defaultValue 5000
   */
  readonly connectTimeoutMs?: number;
  /**
   * What to do when Redis's `maxmemory-policy` is not `noeviction` (an evicting Redis loses
   * jobs): `"warn"` logs an error at connect, `"refuse"` makes `connect()` fail. @defaultValue "warn"
   */
  readonly evictionPolicy?: "warn" | "refuse";
  /**
   * Makes `enqueue` wait until `replicas` replicas of each master written to have acknowledged
   * the new messages (Redis `WAIT`), at most `timeoutMs`; fewer acknowledgements fail the
   * enqueue with a `RedisBrokerError` of code `NOT_REPLICATED` (the messages may be stored:
   * enqueueing again with the same ids adds nothing twice). Narrows what a failover can lose:
   * see "Redis Cluster" in the README. @defaultValue undefined (no waiting)
   */
  readonly waitForReplicas?: ReplicaAcks;
  /** @defaultValue the logger of the first `Connection` built on it (`defaultLogger` until then) */
  readonly logger?: Logger;
}

/**
 * The Redis broker: messages survive processes, consumers may run anywhere. Every state change
 * is one Lua script (see `scripts/`), so it is atomic; leases carry fencing tokens; idle
 * consumers block in Redis instead of polling; batches travel in one round trip.
 *
 * Connections: the client you pass (or one built from the URL or options) runs commands;
 * blocking reads, result subscriptions and the keep-alive thread use duplicates of it. A client
 * you pass stays open on `disconnect()`; the broker closes only connections it opened.
 *
 * Redis Cluster: pass an ioredis `Cluster`, or the nodes' URLs separated by commas. Every script
 * names keys of one queue, all under the queue's hash tag (one slot); what spans queues is split
 * by slot (see cluster.ts, cluster-blocking.ts).
 *
 * @example
 * const broker = new RedisMessageBroker("redis://localhost:6379/0", { prefix: "myapp" });
 * // A cluster: any of its nodes will do, ioredis learns the others.
 * const clustered = new RedisMessageBroker("redis://10.0.0.1:6379,redis://10.0.0.2:6379");
 */
export class RedisMessageBroker implements MessageBroker {
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #keys: KeySpace;
  readonly #scripts = new ScriptRunner();
  readonly #logger: Logger;
  readonly #maxStalls: number;
  readonly #maxDead: number;
  readonly #connectTimeoutMs: number;
  readonly #refuseEviction: boolean;
  readonly #blocking: BlockingPool | ClusterBlocking;
  readonly #replicas: ReplicaAcks | undefined;
  /** 's' when results are announced with SPUBLISH (a cluster of Redis 7+), else 'p'. */
  #publish: "p" | "s" = "p";
  readonly #results: ResultWaiters;
  readonly #receiver: Receiver;
  readonly #enqueuer: Enqueuer;
  /** Aborts every pending receive on disconnect. */
  #closing = new AbortController();
  #connecting: Promise<void> | undefined;
  #settleCalls = 0;
  readonly #settleNonce = Math.random().toString(36).slice(2, 10);
  readonly #spent = new SpentMemos();
  #saidRefused = false;

  constructor(
    connection: RedisConnectionInput = "redis://127.0.0.1:6379",
    options: RedisBrokerOptions = {},
  ) {
    this.#keys = new KeySpace(options.prefix ?? "repid");
    // Connection names (CLIENT LIST) say which broker a connection serves.
    const { client, owned } = createClient(connection, `${this.#keys.prefix}:command`);
    this.#client = client;
    this.#owned = owned;
    this.#logger = options.logger ?? new AdoptedLogger();
    this.#maxStalls = options.maxStalls ?? 3;
    this.#maxDead = Math.max(1, options.maxDeadLetters ?? 10_000);
    this.#connectTimeoutMs = Math.max(100, options.connectTimeoutMs ?? 5000);
    this.#refuseEviction = options.evictionPolicy === "refuse";
    this.#replicas = options.waitForReplicas;
    if (
      this.#replicas &&
      !(Number.isInteger(this.#replicas.replicas) && this.#replicas.replicas >= 1)
    )
      throw new InvalidOptionError("waitForReplicas.replicas", "expected an integer >= 1");
    if (owned) logErrors(client, this.#logger, "command");
    const open = (role: string): RedisClient => {
      const conn = duplicateClient(client, `${this.#keys.prefix}:${role}`, this.#connectTimeoutMs);
      logErrors(conn, this.#logger, role);
      return conn;
    };
    this.#blocking = isCluster(client)
      ? new ClusterBlocking(client, this.#keys.prefix, this.#logger, this.#connectTimeoutMs)
      : new BlockingPool(
          () => open("blocking") as never,
          async (id) => Number(await client.client("UNBLOCK", id)),
          this.#logger,
          this.#connectTimeoutMs,
        );
    this.#results = new ResultWaiters(client, () => this.#openSubscriber(open), this.#logger);
    this.#receiver = new Receiver({
      client,
      keys: this.#keys,
      scripts: this.#scripts,
      logger: this.#logger,
      maxStalls: this.#maxStalls,
      maxDead: this.#maxDead,
      maxBlockMs: Math.max(10, options.maxBlockMs ?? 1000),
      blocking: this.#blocking,
      settle: (s) => this.settle(s),
      spent: this.#spent,
    });
    this.#enqueuer = new Enqueuer(client, this.#keys, this.#scripts);
    this.admin = new RedisAdmin({
      client,
      keys: this.#keys,
      run: (what, call) => this.#run(what, call),
      call: (what, fn) => this.#call(what, fn),
      counts: (queue) => this.counts(queue),
    });
  }

  /** The whole contract (see `BrokerCapabilities`). */
  readonly capabilities = {
    delays: true,
    uniqueIds: true,
    results: true,
    schedules: true,
    globalRunningCount: true,
  } as const;

  /** Admin operations (see `BrokerAdmin`): queues, jobs, cancel, replay, pause. */
  readonly admin: BrokerAdmin;

  /** The prefix every key of this broker starts with. */
  get prefix(): string {
    return this.#keys.prefix;
  }

  /** Whether this broker talks to a Redis Cluster. */
  get cluster(): boolean {
    return isCluster(this.#client);
  }

  /** The subscriber for result waits: on a cluster of Redis 7+, one with sharded subscribers. */
  #openSubscriber(open: (role: string) => RedisClient): RedisClient {
    if (!isCluster(this.#client) || this.#publish !== "s") return open("results");
    const sub = this.#client.duplicate(undefined, {
      lazyConnect: true,
      enableOfflineQueue: true,
      shardedSubscribers: true,
      redisOptions: {
        ...this.#client.options.redisOptions,
        maxRetriesPerRequest: null,
        connectTimeout: this.#connectTimeoutMs,
        connectionName: `${this.#keys.prefix}:results`,
      },
    });
    logErrors(sub, this.#logger, "results");
    return sub;
  }

  /** @see MessageBroker.useLogger */
  useLogger(logger: Logger): void {
    if (this.#logger instanceof AdoptedLogger) this.#logger.adopt(logger);
  }

  async connect(): Promise<void> {
    this.#connecting ??= this.#open().catch((error: unknown) => {
      this.#connecting = undefined;
      throw brokerError("connect", error);
    });
    return this.#connecting;
  }

  async #open(): Promise<void> {
    if (this.#closing.signal.aborted) {
      this.#closing = new AbortController();
      this.#blocking.reopen();
    }
    const status = this.#client.status;
    if (this.#owned && status !== "ready" && status !== "connect" && status !== "connecting") {
      if (status === "reconnecting") this.#client.disconnect();
      await connectClient(this.#client, this.#connectTimeoutMs);
    } else if (!this.#owned) {
      // A client of yours, in whatever state you made it: lazy, still connecting, reconnecting.
      await untilReady(this.#client, this.#connectTimeoutMs);
    }
    const facts = await checkServer(
      this.#client,
      this.#keys.result("repid-probe", "publish"),
      this.#logger,
      this.#refuseEviction,
    );
    this.#scripts.useFlags(facts.scriptFlags);
    this.#results.pushRefused = !facts.canPublish;
    this.#publish = facts.sharded ? "s" : "p";
    this.#results.sharded = facts.sharded;
    // Said at connect already; settlements need not say it again.
    if (!facts.canPublish) this.#saidRefused = true;
    await this.#scripts.loadAll(this.#client);
  }

  async disconnect(): Promise<void> {
    this.#connecting = undefined;
    this.#closing.abort();
    this.#blocking.close();
    await this.#results.close();
    if (!this.#owned) return;
    if (this.#client.status === "ready") {
      // Wait for the socket to be gone too, so that a following connect() starts afresh.
      const ended = new Promise((resolve) => this.#client.once("end", resolve));
      await this.#client.quit().catch(() => this.#client.disconnect());
      await ended;
    } else {
      this.#client.disconnect();
    }
  }

  /** Declares the queue; a queue that exists is left untouched (no write: works on a full Redis). */
  async declareQueue(queue: string): Promise<void> {
    const keys = this.#keys.queue(queue);
    await this.#call("declare queue", async () => {
      if ((await this.#client.exists(keys.declared)) === 0)
        await this.#client.set(keys.declared, "1");
    });
  }

  async flushQueue(queue: string): Promise<void> {
    await this.#flush(queue, false);
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.#flush(queue, true);
  }

  async #flush(queue: string, remove: boolean): Promise<void> {
    const k = this.#keys.queue(queue);
    await this.#run(`${remove ? "delete" : "flush"} queue`, {
      script: "flush",
      keys: [...k.state, k.declared, k.seq],
      args: [remove ? "1" : "0"],
    });
  }

  async queueExists(queue: string): Promise<boolean> {
    const keys = this.#keys.queue(queue);
    return (await this.#call("check queue", () => this.#client.exists(keys.declared))) === 1;
  }

  enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    if (!this.#replicas) return this.#enqueuer.enqueue(messages);
    return this.#enqueueReplicated(messages, this.#replicas);
  }

  async #enqueueReplicated(
    messages: readonly OutgoingMessage[],
    acks: ReplicaAcks,
  ): Promise<EnqueueOutcome[]> {
    const outcomes = await this.#enqueuer.enqueue(messages);
    const queues = [...new Set(messages.map((m) => m.queue))];
    await waitForReplicas(
      this.#client,
      queues.map((q) => this.#keys.queue(q).declared),
      acks,
    );
    return outcomes;
  }

  receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    return this.#receiver.receive(queues, options, this.#closing.signal);
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    if (settlements.length === 0) return [];
    const { calls, slices } = buildSettleCalls(
      this.#keys,
      settlements,
      this.#maxDead,
      () => `s.${this.#settleNonce}.${(this.#settleCalls++).toString(36)}`,
      this.#publish,
      (queue) => this.#spent.take(queue),
    );
    const outcomes = await this.#call("settle", () =>
      runResending(this.#scripts, this.#client, calls, () => this.#closing.signal.aborted),
    );
    // Answered calls (applied, or refused by Redis itself): nothing sends them again.
    outcomes.forEach((outcome, c) => {
      if (outcome.ok || outcome.error.name === "ReplyError")
        this.#spent.add(slices[c]!.queue, calls[c]!.memo!);
    });
    const flags = new Array<boolean>(settlements.length).fill(false);
    let refused = 0;
    outcomes.forEach((outcome, c) => {
      if (!outcome.ok) throw brokerError("settle", outcome.error);
      const values = outcome.value as number[];
      const indices = slices[c]!.indices;
      indices.forEach((index, k) => (flags[index] = values[k] === 1));
      refused += values[indices.length] ?? 0;
    });
    if (refused > 0 && !this.#saidRefused) {
      this.#saidRefused = true;
      this.#logger.warn(
        "repid redis: Redis refused to PUBLISH a job's result (ACL channel permissions): results are stored and settlements applied; waiters read the result keys instead",
      );
    }
    return flags;
  }

  async renew(deliveries: readonly Delivery[], leaseMs: number): Promise<(boolean | Cancelled)[]> {
    if (deliveries.length === 0) return [];
    const { calls, slices } = buildRenewCalls(this.#keys, deliveries, leaseMs);
    const outcomes = await this.#runMany("renew", calls);
    const flags = new Array<boolean | Cancelled>(deliveries.length).fill(false);
    outcomes.forEach((outcome, c) => {
      if (!outcome.ok) throw brokerError("renew", outcome.error);
      const values = outcome.value as number[];
      slices[c]!.indices.forEach((index, k) => (flags[index] = renewed(values[k])));
    });
    return flags;
  }

  async heartbeat(consumer: string, queues: readonly string[], ttlMs: number): Promise<void> {
    const calls = heartbeatCalls(this.#heartbeatGroups(queues), consumer, ttlMs);
    for (const outcome of await this.#runMany("write heartbeat", calls))
      if (!outcome.ok) throw brokerError("write heartbeat", outcome.error);
  }

  /** Keeps the heartbeat alive from a worker thread with its own connection (see keep-alive.ts). */
  keepAlive(consumer: string, queues: readonly string[], ttlMs: number): KeepAlive {
    return startKeepAlive({
      client: this.#client,
      name: `${this.#keys.prefix}:keepalive`,
      script: this.#scripts.source("heartbeat"),
      logger: this.#logger,
      groups: this.#heartbeatGroups(queues),
      consumer,
      ttlMs,
      beat: (ttl) => this.heartbeat(consumer, queues, ttl),
    });
  }

  #heartbeatGroups(queues: readonly string[]): string[][] {
    return heartbeatGroups(heartbeatKeys(this.#keys, queues), isCluster(this.#client));
  }

  async schedules(queue: string): Promise<ScheduleInfo[]> {
    const k = this.#keys.queue(queue);
    const reply = (await this.#run("list schedules", {
      script: "schedules",
      keys: [k.msg, k.lease, k.delayed, k.sched],
      args: [],
    })) as string[];
    return readSchedules(queue, reply);
  }

  async removeSchedule(queue: string, id: string): Promise<boolean> {
    const k = this.#keys.queue(queue);
    const removed = await this.#run("remove schedule", {
      script: "remove-schedule",
      keys: k.state,
      args: [id],
    });
    return removed === 1;
  }

  /** Counts as of now: due delayed messages count as ready, ended leases are recovered first. */
  async counts(queue: string): Promise<QueueCounts> {
    const reply = (await this.#run("count messages", this.#housekeeping(queue))) as number[];
    if ((reply[4] ?? 0) > 0) {
      this.#logger.error(
        `repid redis: ${reply[4]} message(s) of queue "${queue}" had no stored body (evicted? use maxmemory-policy noeviction): dead-lettered with code EVICTED`,
        { queue, count: reply[4] },
      );
    }
    return {
      ready: reply[0] ?? 0,
      delayed: reply[1] ?? 0,
      running: reply[2] ?? 0,
      dead: reply[3] ?? 0,
    };
  }

  /** Dead letters as of now: ended leases past `maxStalls` are dead-lettered first. */
  async deadLetters(
    queue: string,
    options: { readonly limit?: number } = {},
  ): Promise<DeadLetter[]> {
    const k = this.#keys.queue(queue);
    const limit = options.limit ?? Infinity;
    if (limit <= 0) return [];
    await this.#run("read dead letters", this.#housekeeping(queue));
    const stop = Number.isFinite(limit) ? Math.floor(limit) - 1 : -1;
    const raw = await this.#call("read dead letters", () => this.#client.lrange(k.dead, 0, stop));
    return raw.map((entry) => decodeDeadLetter(queue, entry));
  }

  /** Promotes due messages, recovers ended leases, then counts (see counts.lua). */
  #housekeeping(queue: string): ScriptCall {
    const k: QueueKeys = this.#keys.queue(queue);
    return {
      script: "counts",
      keys: k.state,
      args: [this.#maxStalls, this.#maxDead, HOUSEKEEPING_LIMIT],
    };
  }

  /**
   * The stored result of job `id`. Results are kept under their queue: pass `queue` (a
   * `JobHandle` does); without it the broker first looks for the job's queue among the
   * declared queues (one read per queue).
   */
  async readResult(
    id: string,
    options: { readonly queue?: string } = {},
  ): Promise<StoredResult | undefined> {
    const queue = options.queue ?? (await this.#locate(id));
    if (queue === undefined) return undefined;
    return decodeResult(
      await this.#call("read result", () => this.#client.get(this.#keys.result(queue, id))),
    );
  }

  /**
   * Waits for job `id`'s result (see `readResult` for `queue`). Without `queue`, while the job is
   * found in no declared queue (not enqueued yet), it looks again at growing intervals.
   */
  async waitForResult(
    id: string,
    options: {
      readonly timeoutMs: number;
      readonly signal?: AbortSignal;
      readonly queue?: string;
    },
  ): Promise<StoredResult | undefined> {
    if (options.queue !== undefined)
      return this.#results.wait(this.#keys.result(options.queue, id), options);
    const deadline = Date.now() + Math.max(0, options.timeoutMs);
    for (let every = 50; ; every = Math.min(1000, every * 2)) {
      const queue = await this.#locate(id);
      if (queue !== undefined) {
        return this.#results.wait(this.#keys.result(queue, id), {
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
    return this.#call("find the job's queue", async () => {
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

  async #run(what: string, call: ScriptCall): Promise<unknown> {
    return this.#call(what, () => this.#scripts.run(this.#client, call));
  }

  async #runMany(what: string, calls: readonly ScriptCall[]): Promise<CallOutcome[]> {
    return this.#call(what, () => this.#scripts.runMany(this.#client, calls));
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw brokerError(what, error);
    }
  }
}

/** renew.lua's answer for one lease (see the script). */
function renewed(value: number | undefined): boolean | Cancelled {
  if (value === 2) return { cancelled: "dead" };
  if (value === 3) return { cancelled: "ack" };
  return value === 1;
}

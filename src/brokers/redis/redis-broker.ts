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
  TopicLimits,
} from "../broker.js";
import type { BrokerAdmin, Cancelled } from "../admin.js";
import { RedisAdmin } from "./admin.js";
import { BlockingPool } from "./blocking-pool.js";
import { isCluster, type RedisClient } from "./cluster.js";
import { ClusterBlocking } from "./cluster-blocking.js";
import {
  createClient,
  duplicateClient,
  KeySpace,
  logErrors,
  subscriberClient,
  type RedisConnectionInput,
} from "./connection.js";
import { Enqueuer } from "./enqueuer.js";
import { JobResults } from "./job-results.js";
import { JobUpdates } from "./job-updates.js";
import { heartbeatCalls, heartbeatGroups, heartbeatKeys, startKeepAlive } from "./keep-alive.js";
import type { RedisBrokerOptions } from "./options.js";
import { checkServer, connectClient, untilReady } from "./preflight.js";
import { RedisQueues } from "./queues.js";
import { Receiver } from "./receiver.js";
import { brokerError, wrapErrors } from "./redis-errors.js";
import type { ReplicaAcks } from "./replicas.js";
import { ResultWaiters } from "./result-waiters.js";
import { ScriptRunner, type CallOutcome, type ScriptCall } from "./scripts.js";
import { Settler } from "./settler.js";
import { SpentMemos } from "./spent-memos.js";

export type { RedisConnectionInput } from "./connection.js";
export type { RedisBrokerOptions } from "./options.js";
export type { ReplicaAcks } from "./replicas.js";
export { RedisBrokerError } from "./redis-errors.js";

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
  readonly #updates: JobUpdates;
  readonly #receiver: Receiver;
  readonly #enqueuer: Enqueuer;
  readonly #settler: Settler;
  readonly #queues: RedisQueues;
  /** Aborts every pending receive on disconnect. */
  #closing = new AbortController();
  #connecting: Promise<void> | undefined;
  readonly #spent = new SpentMemos();

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
    this.#results = new ResultWaiters(client, () => this.#openSubscriber("results"), this.#logger);
    const [keys, openSubscriber] = [this.#keys, () => this.#openSubscriber("updates")];
    const sharded = (): boolean => this.#publish === "s";
    this.#updates = new JobUpdates({ client, keys, openSubscriber, sharded });
    this.publishUpdate = this.#updates.publish;
    this.readUpdate = this.#updates.read;
    this.watchUpdates = this.#updates.watch;
    const results = new JobResults({ client, keys, waiters: this.#results, sharded });
    this.readResult = results.read;
    this.storeResult = results.store;
    this.deleteResult = results.remove;
    this.waitForResult = results.wait;
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
    this.#enqueuer = new Enqueuer(client, this.#keys, this.#scripts, this.#replicas);
    this.#settler = new Settler({
      client,
      keys: this.#keys,
      scripts: this.#scripts,
      logger: this.#logger,
      maxDead: this.#maxDead,
      spent: this.#spent,
      publish: () => this.#publish,
      closing: () => this.#closing.signal.aborted,
    });
    this.#queues = new RedisQueues({
      client,
      keys: this.#keys,
      scripts: this.#scripts,
      logger: this.#logger,
      maxStalls: this.#maxStalls,
      maxDead: this.#maxDead,
    });
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
    dedupe: true,
    limits: true,
    debounce: true,
    progress: true,
  } as const;

  /** Job updates (see `MessageBroker.publishUpdate`): ./job-updates.ts. */
  readonly publishUpdate: JobUpdates["publish"];
  readonly readUpdate: JobUpdates["read"];
  readonly watchUpdates: JobUpdates["watch"];
  /** Results (see `MessageBroker.readResult`), kept per queue: ./job-results.ts. */
  readonly readResult: JobResults["read"];
  readonly storeResult: JobResults["store"];
  readonly deleteResult: JobResults["remove"];
  readonly waitForResult: JobResults["wait"];

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

  /** A subscriber (result waits, job updates): on a cluster of Redis 7+, a sharded one. */
  #openSubscriber(role: "results" | "updates"): RedisClient {
    const name = `${this.#keys.prefix}:${role}`;
    const sub = subscriberClient(this.#client, name, this.#connectTimeoutMs, this.#publish === "s");
    logErrors(sub, this.#logger, role);
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
    if (!facts.canPublish) this.#settler.refusalSaid();
    await this.#scripts.loadAll(this.#client);
  }

  async disconnect(): Promise<void> {
    this.#connecting = undefined;
    this.#closing.abort();
    this.#blocking.close();
    await Promise.all([this.#results.close(), this.#updates.close()]);
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
  declareQueue(queue: string): Promise<void> {
    return this.#queues.declare(queue);
  }

  flushQueue(queue: string): Promise<void> {
    return this.#queues.flush(queue, false);
  }

  deleteQueue(queue: string): Promise<void> {
    return this.#queues.flush(queue, true);
  }

  queueExists(queue: string): Promise<boolean> {
    return this.#queues.exists(queue);
  }

  enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    return this.#enqueuer.enqueue(messages);
  }

  receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    return this.#receiver.receive(queues, options, this.#closing.signal);
  }

  settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    return this.#settler.settle(settlements);
  }

  renew(deliveries: readonly Delivery[], leaseMs: number): Promise<(boolean | Cancelled)[]> {
    return this.#settler.renew(deliveries, leaseMs);
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

  schedules(queue: string): Promise<ScheduleInfo[]> {
    return this.#queues.schedules(queue);
  }

  removeSchedule(queue: string, id: string): Promise<boolean> {
    return this.#queues.removeSchedule(queue, id);
  }

  /** @see MessageBroker.declareLimits */
  declareLimits(queue: string, topic: string, limits: TopicLimits | undefined): Promise<void> {
    return this.#queues.declareLimits(queue, topic, limits);
  }

  /** Counts as of now: due delayed messages count as ready, ended leases are recovered first. */
  counts(queue: string): Promise<QueueCounts> {
    return this.#queues.counts(queue);
  }

  /** Dead letters as of now: ended leases past `maxStalls` are dead-lettered first. */
  deadLetters(queue: string, options: { readonly limit?: number } = {}): Promise<DeadLetter[]> {
    return this.#queues.deadLetters(queue, options);
  }

  async #run(what: string, call: ScriptCall): Promise<unknown> {
    return this.#call(what, () => this.#scripts.run(this.#client, call));
  }

  async #runMany(what: string, calls: readonly ScriptCall[]): Promise<CallOutcome[]> {
    return this.#call(what, () => this.#scripts.runMany(this.#client, calls));
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return wrapErrors(what, fn);
  }
}

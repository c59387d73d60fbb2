import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { BrokerError, QueueNotDeclaredError, RepidError } from "../../errors.js";
import { silentLogger, type Logger } from "../../logger.js";
import type {
  ScheduleInfo,
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  MessageBroker,
  OutgoingMessage,
  QueueCounts,
  ReceiveOptions,
  Settlement,
  StoredResult,
} from "../broker.js";
import { BlockingPool } from "./blocking-pool.js";
import { decodeDeadLetter, decodeResult } from "./codec.js";
import {
  createClient,
  duplicateClient,
  KeySpace,
  logErrors,
  type QueueKeys,
  type RedisConnectionInput,
} from "./connection.js";
import {
  buildEnqueueCalls,
  buildRenewCalls,
  buildSettleCalls,
  takeFromQueue,
  type Taken,
} from "./operations.js";
import { ResultWaiters } from "./result-waiters.js";
import { ScriptRunner, type CallOutcome, type ScriptCall } from "./scripts.js";

export type { RedisConnectionInput } from "./connection.js";

/** Options of {@link RedisMessageBroker}. */
export interface RedisBrokerOptions {
  /** Namespace of every key (`<prefix>:{<queue>}:...`); distinct prefixes never interact. @defaultValue "repid" */
  readonly prefix?: string;
  /** Lease expiries allowed before a message is dead-lettered as `STALLED`. @defaultValue 3 */
  readonly maxStalls?: number;
  /** Dead letters kept per queue; the oldest go first. @defaultValue 10_000 */
  readonly maxDeadLetters?: number;
  /** Longest single block of an idle `receive` before it looks again, in ms. @defaultValue 5000 */
  readonly maxBlockMs?: number;
  /** @defaultValue a logger that drops everything */
  readonly logger?: Logger;
}

/** Expired leases and due delayed messages handled per queue per receive round. */
const HOUSEKEEPING_LIMIT = 1000;

/**
 * The Redis broker: messages survive processes, consumers may run anywhere. Every state change
 * is one Lua script (see `scripts/`), so it is atomic; leases carry fencing tokens; idle
 * consumers block in Redis instead of polling; batches travel in one round trip.
 *
 * Connections: the client you pass (or one built from the URL or options) runs commands;
 * blocking reads and result subscriptions use duplicates of it. A client you pass stays open on
 * `disconnect()`; the broker closes only connections it opened.
 *
 * @example
 * const broker = new RedisMessageBroker("redis://localhost:6379/0", { prefix: "myapp" });
 */
export class RedisMessageBroker implements MessageBroker {
  readonly #client: Redis;
  readonly #owned: boolean;
  readonly #keys: KeySpace;
  readonly #scripts = new ScriptRunner();
  readonly #logger: Logger;
  readonly #maxStalls: number;
  readonly #maxDead: number;
  readonly #maxBlockMs: number;
  readonly #blocking: BlockingPool;
  readonly #results: ResultWaiters;
  /** Aborts every pending receive on disconnect. */
  #closing = new AbortController();
  #connecting: Promise<void> | undefined;
  readonly #tokenNonce = randomBytes(6).toString("base64url");
  #tokenCalls = 0;
  #rotation = 0;
  #closedOnce = false;
  #coalesced: {
    readonly messages: readonly OutgoingMessage[];
    readonly resolve: (outcomes: EnqueueOutcome[]) => void;
    readonly reject: (error: unknown) => void;
  }[] = [];

  constructor(
    connection: RedisConnectionInput = "redis://127.0.0.1:6379",
    options: RedisBrokerOptions = {},
  ) {
    this.#keys = new KeySpace(options.prefix ?? "repid");
    // Connection names (CLIENT LIST) say which broker a connection serves.
    const { client, owned } = createClient(connection, `${this.#keys.prefix}:command`);
    this.#client = client;
    this.#owned = owned;
    this.#logger = options.logger ?? silentLogger;
    this.#maxStalls = options.maxStalls ?? 3;
    this.#maxDead = Math.max(1, options.maxDeadLetters ?? 10_000);
    this.#maxBlockMs = Math.max(10, options.maxBlockMs ?? 5000);
    if (owned) logErrors(client, this.#logger, "command");
    const open = (role: string): Redis => {
      const conn = duplicateClient(client, `${this.#keys.prefix}:${role}`, this.#maxBlockMs);
      logErrors(conn, this.#logger, role);
      return conn;
    };
    this.#blocking = new BlockingPool(
      () => open("blocking"),
      async (id) => Number(await client.client("UNBLOCK", id)),
    );
    this.#results = new ResultWaiters(client, () => open("results"));
  }

  /** The prefix every key of this broker starts with. */
  get prefix(): string {
    return this.#keys.prefix;
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
    const closedByUs = this.#closedOnce && this.#owned && status === "reconnecting";
    if (status === "wait" || status === "end" || status === "close" || closedByUs)
      await this.#client.connect();
    await this.#scripts.loadAll(this.#client);
  }

  async disconnect(): Promise<void> {
    this.#connecting = undefined;
    this.#closing.abort();
    this.#blocking.close();
    await this.#results.close();
    if (!this.#owned) return;
    this.#closedOnce = true;
    if (this.#client.status === "ready") {
      // Wait for the socket to be gone too, so that a following connect() starts afresh.
      const ended = new Promise((resolve) => this.#client.once("end", resolve));
      await this.#client.quit().catch(() => this.#client.disconnect());
      await ended;
    } else {
      this.#client.disconnect();
    }
  }

  async declareQueue(queue: string): Promise<void> {
    const keys = this.#keys.queue(queue);
    await this.#call("declare queue", () => this.#client.set(keys.declared, "1"));
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

  /**
   * Single-queue calls made in the same event-loop turn travel together as one script call (one
   * round trip for many concurrent producers); each call still gets exactly its own outcomes.
   */
  enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    if (messages.length === 0) return Promise.resolve([]);
    const queue = messages[0]!.queue;
    for (const m of messages) if (m.queue !== queue) return this.#enqueueNow(messages);
    this.#keys.queue(queue); // validates the name now, in the caller's stack
    return new Promise((resolve, reject) => {
      this.#coalesced.push({ messages, resolve, reject });
      if (this.#coalesced.length === 1) queueMicrotask(() => void this.#flushCoalesced());
    });
  }

  async #flushCoalesced(): Promise<void> {
    const batch = this.#coalesced;
    this.#coalesced = [];
    const all = batch.length === 1 ? batch[0]!.messages : batch.flatMap((c) => c.messages);
    let outcomes: EnqueueOutcome[];
    try {
      outcomes = await this.#enqueueNow(all);
    } catch (error) {
      for (const c of batch) c.reject(error);
      return;
    }
    let at = 0;
    for (const c of batch) {
      c.resolve(batch.length === 1 ? outcomes : outcomes.slice(at, at + c.messages.length));
      at += c.messages.length;
    }
  }

  async #enqueueNow(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    const { calls, slices, queues } = buildEnqueueCalls(this.#keys, messages, Date.now());
    if (queues.length > 1) {
      // Several queues: every one must be declared before any script stores anything.
      const pipeline = this.#client.pipeline();
      for (const q of queues) pipeline.exists(this.#keys.queue(q).declared);
      const replies = await this.#call("enqueue", () => pipeline.exec());
      queues.forEach((q, i) => {
        if (replies?.[i]?.[1] !== 1) throw new QueueNotDeclaredError(q);
      });
    }
    const outcomes = await this.#runMany("enqueue", calls);
    const result = new Array<EnqueueOutcome>(messages.length);
    outcomes.forEach((outcome, c) => {
      const slice = slices[c]!;
      if (!outcome.ok) {
        if (outcome.error.message.includes("REPID_NOT_DECLARED"))
          throw new QueueNotDeclaredError(slice.queue);
        throw brokerError("enqueue", outcome.error);
      }
      const flags = outcome.value as number[];
      slice.indices.forEach((index, k) => {
        result[index] = { id: messages[index]!.id, created: flags[k] === 1 };
      });
    });
    return result;
  }

  async receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    const { signal } = options;
    const closing = this.#closing.signal;
    if (signal?.aborted || closing.aborted || queues.length === 0 || options.max <= 0) return [];
    // Two signals checked side by side: AbortSignal.any per call costs more than the receive.
    const signals = signal ? [signal, closing] : [closing];
    const stopped = (): boolean => closing.aborted || signal?.aborted === true;
    const keys = queues.map((q) => this.#keys.queue(q));
    for (;;) {
      let round: Taken;
      try {
        round = await this.#take(queues, options);
      } catch (error) {
        if (stopped()) return [];
        throw brokerError("receive", error);
      }
      if (round.deliveries.length > 0 || stopped()) return round.deliveries;
      const wait =
        round.nextAt < 0 ? this.#maxBlockMs : Math.min(this.#maxBlockMs, round.nextAt - round.now);
      if (wait > 0)
        await this.#blocking.wait(
          keys.map((k) => k.notify),
          wait,
          signals,
        );
      if (stopped()) return [];
    }
  }

  async #take(queues: readonly string[], options: ReceiveOptions): Promise<Taken> {
    const total: Taken = { deliveries: [], malformed: [], now: 0, nextAt: -1 };
    const start = queues.length > 1 ? this.#rotation++ % queues.length : 0;
    for (let i = 0; i < queues.length && total.deliveries.length < options.max; i++) {
      const queue = queues[(start + i) % queues.length]!;
      const tokenPrefix = `${this.#tokenNonce}.${(this.#tokenCalls++).toString(36)}.`;
      const round = await takeFromQueue(
        (call) => this.#scripts.run(this.#client, call),
        this.#keys.queue(queue),
        queue,
        [
          options.max - total.deliveries.length,
          options.leaseMs,
          tokenPrefix,
          this.#maxStalls,
          this.#maxDead,
          HOUSEKEEPING_LIMIT,
        ],
        tokenPrefix,
      );
      for (const d of round.deliveries) total.deliveries.push(d);
      for (const d of round.malformed) total.malformed.push(d);
      total.now = round.now;
      if (round.nextAt >= 0 && (total.nextAt < 0 || round.nextAt < total.nextAt))
        total.nextAt = round.nextAt;
    }
    if (total.malformed.length > 0) {
      this.#logger.warn(
        `repid redis: dead-lettering ${total.malformed.length} malformed message(s)`,
      );
      await this.settle(total.malformed);
      // Something was taken, so look again at once instead of blocking.
      if (total.deliveries.length === 0) total.nextAt = total.now;
    }
    return total;
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    if (settlements.length === 0) return [];
    const { calls, slices } = buildSettleCalls(this.#keys, settlements, this.#maxDead);
    return this.#flags("settle", calls, slices, settlements.length);
  }

  // TODO(issue 9, Redis helper): schedules, removeSchedule and heartbeat per the contract.
  async schedules(_queue: string): Promise<ScheduleInfo[]> {
    throw new BrokerError("schedules() is not implemented on Redis yet");
  }

  async removeSchedule(_queue: string, _id: string): Promise<boolean> {
    throw new BrokerError("removeSchedule() is not implemented on Redis yet");
  }

  async heartbeat(_consumer: string, _queues: readonly string[], _ttlMs: number): Promise<void> {}

  async renew(deliveries: readonly Delivery[], leaseMs: number): Promise<boolean[]> {
    if (deliveries.length === 0) return [];
    const { calls, slices } = buildRenewCalls(this.#keys, deliveries, leaseMs);
    return this.#flags("renew", calls, slices, deliveries.length);
  }

  async #flags(
    what: string,
    calls: readonly ScriptCall[],
    slices: readonly { readonly indices: readonly number[] }[],
    length: number,
  ): Promise<boolean[]> {
    const outcomes = await this.#runMany(what, calls);
    const flags = new Array<boolean>(length).fill(false);
    outcomes.forEach((outcome, c) => {
      if (!outcome.ok) throw brokerError(what, outcome.error);
      const values = outcome.value as number[];
      slices[c]!.indices.forEach((index, k) => (flags[index] = values[k] === 1));
    });
    return flags;
  }

  /** Counts as of now: due delayed messages count as ready, expired leases are recovered first. */
  async counts(queue: string): Promise<QueueCounts> {
    const k = this.#keys.queue(queue);
    const [, counted] = await this.#runMany("count messages", [
      this.#housekeeping(k),
      { script: "counts", keys: [k.ready, k.delayed, k.running, k.dead], args: [] },
    ]);
    if (!counted?.ok) throw brokerError("count messages", counted?.error);
    const reply = counted.value as number[];
    return {
      ready: reply[0] ?? 0,
      delayed: reply[1] ?? 0,
      running: reply[2] ?? 0,
      dead: reply[3] ?? 0,
    };
  }

  /** Dead letters as of now: expired leases past `maxStalls` are dead-lettered first. */
  async deadLetters(
    queue: string,
    options: { readonly limit?: number } = {},
  ): Promise<DeadLetter[]> {
    const k = this.#keys.queue(queue);
    const limit = options.limit ?? Infinity;
    if (limit <= 0) return [];
    await this.#run("read dead letters", this.#housekeeping(k));
    const stop = Number.isFinite(limit) ? Math.floor(limit) - 1 : -1;
    const raw = await this.#call("read dead letters", () => this.#client.lrange(k.dead, 0, stop));
    return raw.map((entry) => decodeDeadLetter(queue, entry));
  }

  /** A receive round that leases nothing: promotes due messages and recovers expired leases. */
  #housekeeping(k: QueueKeys): ScriptCall {
    return {
      script: "receive",
      keys: k.state,
      args: [0, 0, "", this.#maxStalls, this.#maxDead, HOUSEKEEPING_LIMIT],
    };
  }

  async readResult(id: string): Promise<StoredResult | undefined> {
    return decodeResult(
      await this.#call("read result", () => this.#client.get(this.#keys.result(id))),
    );
  }

  waitForResult(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    return this.#results.wait(this.#keys.result(id), options);
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

function brokerError(what: string, error: unknown): RepidError {
  if (error instanceof RepidError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BrokerError(`Redis broker could not ${what}: ${message}`, { cause: error });
}

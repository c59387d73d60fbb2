/**
 * The broker contract: what every message broker (in-memory, Redis, later ones) promises.
 *
 * Glossary
 * - message: one stored unit of work, addressed by `id` inside a queue. A job may become many
 *   messages over time (retries, recurring schedules) but only one exists per id at a time.
 * - ready: a message that may be delivered now. Delivered strictly by priority (0 = high before
 *   1 = medium before 2 = low), FIFO (by enqueue order) within one priority.
 * - delayed: a message whose `executeAt` lies in the future; it becomes ready when due, without
 *   anyone polling for it individually.
 * - running: a message handed to a consumer under a lease. The lease carries a fencing `token`;
 *   only the holder of the current token may settle or renew it.
 * - dead letter: a message that will never run again, kept per queue with the reason.
 *
 * Atomicity: each state change of one message (enqueue, receive, settle, renew, lease expiry) is
 * atomic. A message is in exactly one of ready, delayed, running or dead at any instant, and it
 * leaves the broker only when it is acked (or its queue flushed/deleted).
 *
 * Clocks: lease deadlines and heartbeat expiries run on the broker's own clock, which may stop
 * while the broker serves nobody (Redis: stretches of more than 1.5 s without any script on the
 * queue). A stall of the broker itself never takes leases from live consumers; leases held by a
 * consumer that crashed while nobody watched the queue end at most one lease (or heartbeat)
 * after a consumer comes back.
 *
 * Calls sent again: a call whose reply was lost and that is sent again (by the client library on
 * reconnection, or by the broker itself) answers as the first did: `enqueue` with `created: true`
 * for the messages that call stored (a message acked in between is stored again), `settle` with
 * the first call's flags and nothing applied twice (a new `settle` of an applied settlement
 * returns `false`), `receive` with the deliveries the first call leased, same tokens, not a
 * second batch.
 */
import type { Logger } from "../core/logger.js";

import type { BrokerAdmin, Cancelled } from "./admin.js";
import type {
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  JobUpdate,
  KeptResult,
  OutgoingMessage,
  QueueCounts,
  ScheduleInfo,
  Settlement,
  StoredResult,
  TopicLimits,
} from "./records.js";

// The records the contract passes live in ./records.ts (so that ./admin.ts can use them without
// importing this module); they are exported from here as ever.
export type {
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  FailureInfo,
  HeldBy,
  JobUpdate,
  JobUpdateState,
  KeptResult,
  Message,
  OutgoingMessage,
  PriorityLevel,
  QueueCounts,
  Schedule,
  ScheduleInfo,
  Settlement,
  StoredResult,
  TopicLimits,
} from "./records.js";

/** A running `keepAlive`. */
export interface KeepAlive {
  /** Stops refreshing and removes the record (the consumer's remaining leases end at once). */
  stop(): Promise<void>;
}

export interface ReceiveOptions {
  /** Deliver at most this many messages. */
  readonly max: number;
  /** Lease length in ms; the consumer renews before it runs out. */
  readonly leaseMs: number;
  /** Abort to stop waiting; resolves with what was taken so far (possibly nothing). */
  readonly signal?: AbortSignal;
  /**
   * Who takes the leases. When given, the leases also end as soon as this consumer's heartbeat
   * (see `heartbeat`) has expired, without waiting for `leaseMs`: a crashed worker's messages
   * come back at once while a live worker's long job is never taken from it. Absent: leases end
   * only when they expire.
   */
  readonly consumer?: string;
}

/**
 * What a broker can do beyond the core (enqueue, receive under a lease, settle with fencing,
 * renew, priorities, dead letters, counts). The contract suites run each test on every broker that
 * claims what the test needs; an operation a broker does not support throws `NotSupportedError`.
 */
export interface BrokerCapabilities {
  /** `executeAt` is honoured (delayed messages, retry backoff, deferred jobs). */
  readonly delays: boolean;
  /**
   * At most one message per id exists in a queue (waiting, delayed or running): enqueueing an
   * existing id adds nothing (`created: false`). Without it every enqueue adds a message.
   */
  readonly uniqueIds: boolean;
  /** The broker stores results itself (`readResult`, `waitForResult`, settlement results). */
  readonly results: boolean;
  /** Periodic messages (`schedule`): replacement on enqueue, `schedules()`, `removeSchedule()`. */
  readonly schedules: boolean;
  /**
   * `counts().running` counts every consumer's leases. Without it, it counts only the leases of
   * this broker instance (other processes' unsettled deliveries are invisible to it).
   */
  readonly globalRunningCount: boolean;
  /**
   * `dedupeMs` is honoured: an id stays taken for the window after the enqueue that created it,
   * also once its message ended. Absent means false (a broker written before it); the runtime
   * refuses such jobs with `NotSupportedError` on a broker without it.
   */
  readonly dedupe?: boolean;
  /**
   * `declareLimits` is honoured: concurrency and rate limits per topic (and per key), across
   * every consumer of the queue, with keys served in turn. Absent means false.
   */
  readonly limits?: boolean;
  /** `debounceMs` is honoured (see `OutgoingMessage.debounceMs`). Absent means false. */
  readonly debounce?: boolean;
  /**
   * Job updates (`publishUpdate`, `readUpdate`, `watchUpdates`): progress and lifecycle a
   * producer can watch. Absent means false (then `ctx.progress` does nothing and `watch()` is
   * refused with `NotSupportedError`).
   */
  readonly progress?: boolean;
  /**
   * `OutgoingMessage.transaction` is honoured: `enqueue` stores the message through the caller's
   * transaction (visible from its commit, never after a rollback). Absent means false (the
   * runtime refuses such jobs with `NotSupportedError`).
   */
  readonly transactions?: boolean;
}

/** The capabilities of a broker that declares none: the whole contract (in-memory, Redis). */
export const FULL_CAPABILITIES: BrokerCapabilities = Object.freeze({
  delays: true,
  uniqueIds: true,
  results: true,
  schedules: true,
  globalRunningCount: true,
  dedupe: false,
  limits: false,
  debounce: false,
});

/** The capabilities a broker declares, or the whole contract when it declares none. */
export function capabilitiesOf(broker: MessageBroker): BrokerCapabilities {
  return broker.capabilities ?? FULL_CAPABILITIES;
}

/**
 * Keeps job results apart from the broker (for brokers without `results`, or to keep them
 * elsewhere): `new Connection(broker, { results })`. A result is stored before its message is
 * settled, so a crash in between may store it twice but never loses it.
 */
export interface ResultStore {
  /** Opens connections. Idempotent. */
  connect(): Promise<void>;
  /** Closes connections; pending waits resolve `undefined`. Idempotent. */
  disconnect(): Promise<void>;
  /**
   * Hands the store the logger of a `Connection` built on it. One that was given no logger of
   * its own logs through the first logger it is handed (warnings and failures then show in the
   * connection's logger, `defaultLogger` unless one was passed); one given its own ignores this.
   */
  useLogger?(logger: Logger): void;
  /** Stores (or replaces) the result of job `id` for `ttlMs`, and wakes its waiters. */
  store(id: string, result: StoredResult, ttlMs: number): Promise<void>;
  /** The stored result, or `undefined` when none is stored (yet or any more). */
  read(id: string): Promise<StoredResult | undefined>;
  /** Removes job `id`'s result, if one is stored. Absent: results live out their time to live. */
  delete?(id: string): Promise<void>;
  /**
   * Resolves with the result as soon as it is stored (at once when it already is), or
   * `undefined` when `timeoutMs` passes or the signal aborts first. Never polls.
   */
  wait(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined>;
}

/**
 * Every broker implements this interface. Methods taking arrays act on a batch in as few round
 * trips as the engine allows; results are in input order.
 */
export interface MessageBroker {
  /** What this broker supports beyond the core; absent means everything (`FULL_CAPABILITIES`). */
  readonly capabilities?: BrokerCapabilities;
  /** Admin operations (queues, jobs, cancel, replay, pause), when the broker supports them. */
  readonly admin?: BrokerAdmin;
  /** Opens connections. Idempotent. */
  connect(): Promise<void>;
  /** Closes connections; pending `receive` calls resolve empty. Idempotent. */
  disconnect(): Promise<void>;

  /** Creates the queue if it does not exist; re-declaring has no effect. */
  declareQueue(queue: string): Promise<void>;
  /** Removes every message of the queue (ready, delayed, running, dead); keeps it declared. */
  flushQueue(queue: string): Promise<void>;
  /** Removes the queue and its messages; enqueueing to it fails until declared again. */
  deleteQueue(queue: string): Promise<void>;
  /** True when the queue is declared. */
  queueExists(queue: string): Promise<boolean>;

  /**
   * Stores messages. Throws `QueueNotDeclaredError` (before storing any of the batch) when a
   * queue is not declared. A message whose id already exists in its queue (ready, delayed or
   * running) is not added again: its outcome has `created: false`.
   *
   * Periodic messages (with a `schedule`) are the exception: enqueueing one whose id exists
   * replaces the stored definition (topic, payload, priority, retries, timeout, schedule, result
   * ttl), still with `created: false`. When the stored message is waiting (ready or delayed) and
   * its schedule changed, its next run time becomes the new message's `executeAt` (or now); with
   * the same schedule it keeps its next run time (a service declaring its schedules on every
   * start does not move them). When it is running, the run in progress ends as it would have and
   * the new definition applies from its next settlement on (the requeue keeps the stored body).
   */
  enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]>;

  /**
   * Sets (or, with `undefined`, removes) the limits of `topic` on `queue` for every consumer,
   * from the next `receive` on; the last declaration wins. They apply to every message of the
   * topic, also to those enqueued before. Only on brokers that claim `limits`.
   *
   * A message of a limited topic is leased only while its concurrency group (the topic, and the
   * key value when the limit has a key) holds fewer leases than the limit, and its rate group has
   * taken fewer than `limit` leases within the last `perMs`; a lease counts until its settlement
   * or until it ends unsettled (expired, or its consumer's heartbeat expired). Until then the
   * message waits as `limited` and is delivered, without polling, once a slot frees or the window
   * allows. Within a topic, groups that have work take turns; priorities still come first.
   */
  declareLimits?(queue: string, topic: string, limits: TopicLimits | undefined): Promise<void>;

  /** The periodic messages (with a `schedule`) of the queue, by id. */
  schedules(queue: string): Promise<ScheduleInfo[]>;
  /**
   * Removes a periodic message in whatever state it is (a running one's settlement is then not
   * applied, and it is not rescheduled). True when something was removed.
   */
  removeSchedule(queue: string, id: string): Promise<boolean>;

  /**
   * Takes up to `max` ready messages from the given queues, moving each to running under a new
   * lease, and returns them. Due delayed messages become ready first; expired leases are
   * recovered (their messages ready again, `stalls` + 1, or dead-lettered with code `STALLED`
   * once `stalls` passes the broker's `maxStalls`). A stored message that cannot be decoded is
   * dead-lettered with code `MALFORMED` instead of being delivered (one whose body is missing, e.g.
   * evicted, with code `EVICTED`). Waits, without busy polling,
   * until at least one message is available or the signal aborts. Two consumers never hold one
   * message.
   */
  receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]>;

  /**
   * Applies settlements. Each is applied atomically and only if its delivery's token is still the
   * current lease of the message; the returned flags say which were applied.
   */
  settle(settlements: readonly Settlement[]): Promise<boolean[]>;

  /**
   * Extends leases to now + `leaseMs`; returns, per delivery, whether the lease was still held,
   * or `{ cancelled }` when it is held but an operator cancelled the job (see `BrokerAdmin`): the
   * holder then aborts the attempt and settles it as asked. Throws when the broker cannot tell
   * (then nothing may be assumed about any lease).
   */
  renew(deliveries: readonly Delivery[], leaseMs: number): Promise<(boolean | Cancelled)[]>;

  /**
   * Records that `consumer` is alive for the next `ttlMs`, for leases it took on `queues` (see
   * `ReceiveOptions.consumer`). Once the record has expired (or was removed with `ttlMs` 0), the
   * consumer's leases are recovered by the next `receive` or `counts` as if they had expired
   * (`stalls` + 1). A consumer writes its first heartbeat before its first `receive`.
   */
  heartbeat(consumer: string, queues: readonly string[], ttlMs: number): Promise<void>;

  /**
   * Optional: keeps `consumer`'s heartbeat alive on its own (every `ttlMs / 3` or so) from
   * somewhere that a blocked event loop does not stop, such as a worker thread, until `stop()`
   * removes the record. Workers use it when present, and otherwise call `heartbeat` from a timer.
   */
  keepAlive?(consumer: string, queues: readonly string[], ttlMs: number): KeepAlive;

  /**
   * Hands the broker the logger of a `Connection` built on it. One that was given no logger of
   * its own logs through the first logger it is handed (warnings and failures then show in the
   * connection's logger, `defaultLogger` unless one was passed); one given its own ignores this.
   */
  useLogger?(logger: Logger): void;

  /**
   * How many messages are in each state. Leases that have expired by now may be recovered first
   * (or are recovered on the broker's own schedule), so a crashed consumer's messages show up as
   * ready (or dead, past `maxStalls`) without waiting for the next `receive`.
   */
  counts(queue: string): Promise<QueueCounts>;
  /** Dead letters of the queue, oldest first. */
  deadLetters(queue: string, options?: { readonly limit?: number }): Promise<DeadLetter[]>;

  /**
   * The stored result of a job, or `undefined` when none is stored (yet or any more). `queue`,
   * the job's queue when the caller knows it, lets a broker that keeps results per queue (Redis,
   * for Redis Cluster) go straight to it; brokers may ignore it.
   */
  readResult(id: string, options?: { readonly queue?: string }): Promise<StoredResult | undefined>;
  /**
   * Stores (or replaces) job `id`'s result now, apart from any settlement, and wakes its
   * waiters: flows keep a step's result before the step is settled. `queue` is the job's queue.
   * Brokers with `results` have it (absent: flows are refused with `NotSupportedError`).
   */
  storeResult?(id: string, result: KeptResult, options: { readonly queue: string }): Promise<void>;
  /**
   * Removes job `id`'s stored result, if one is kept (none is no error); waiters keep waiting.
   * `queue` is the job's queue. Flows remove an intermediate step's result once the flow no
   * longer needs it; a broker without it keeps such results until their time to live.
   */
  deleteResult?(id: string, options: { readonly queue: string }): Promise<void>;
  /**
   * Resolves with the result as soon as it is stored (at once when it already is), or
   * `undefined` when `timeoutMs` passes or the signal aborts first. Never polls once the job's
   * queue is known (given as `queue`, or found by the broker).
   */
  waitForResult(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal; readonly queue?: string },
  ): Promise<StoredResult | undefined>;

  /**
   * Keeps `update` as job `id`'s last update for `ttlMs` (replacing the one before) and hands it
   * to every watcher of the job (`watchUpdates`). Brokers that claim `progress` have it.
   */
  publishUpdate?(queue: string, id: string, update: JobUpdate, ttlMs: number): Promise<void>;
  /** Job `id`'s last update, or `undefined` when none is kept (yet or any more). */
  readUpdate?(queue: string, id: string): Promise<JobUpdate | undefined>;
  /**
   * Calls `listener` with each update of job `id` published from now until `signal` aborts.
   * Resolves once listening (an update published after that is never missed: a broker whose
   * connection dropped meanwhile reads the kept update once it is back, and calls `listener`
   * with it unless it is the last one it handed over, or older).
   */
  watchUpdates?(
    queue: string,
    id: string,
    listener: (update: JobUpdate) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

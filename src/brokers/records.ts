/**
 * The records the broker contract passes: messages as producers send them and brokers store and
 * deliver them, deliveries, settlements, results, dead letters, counts and schedules. The
 * contract itself (`MessageBroker`, its glossary and capabilities) is in `./broker.ts`, which
 * exports these too; the admin operations (`./admin.ts`) use them without depending on it.
 */

import type { FailureInfo } from "../core/errors.js";
import type { PriorityLevel } from "../core/priority.js";
import type { Schedule } from "../core/schedule.js";
import type { TopicLimits } from "../core/limits.js";

// Records of the contract that are defined in core/, where producers and workers read them too.
export type { FailureInfo, PriorityLevel, Schedule, TopicLimits };

/** What a producer hands to a broker. */
export interface OutgoingMessage {
  /** Unique within the queue while the message exists (waiting, delayed or running). */
  readonly id: string;
  readonly queue: string;
  /** The actor name the consumer routes on. */
  readonly topic: string;
  /** JSON text of the job's arguments, or `undefined` for none. Brokers never parse it. */
  readonly payload: string | undefined;
  readonly priority: PriorityLevel;
  /** Retries allowed after the first attempt. */
  readonly retries: number;
  /** Execution timeout of one attempt, in ms. */
  readonly timeoutMs: number;
  /** Epoch ms before which the message must not be delivered; absent means now. */
  readonly executeAt?: number;
  readonly schedule?: Schedule;
  /** Keep the result (or final error) this many ms after the job ends; absent: keep none. */
  readonly resultTtlMs?: number;
  /**
   * Per-message metadata (trace context, tenant, ...), stored and delivered unchanged; absent when
   * empty. At most `MAX_HEADERS_BYTES` as JSON (the runtime checks before sending).
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Epoch ms after which a first attempt must not start (the job's `ttl`): the worker then
   * dead-letters it as `EXPIRED`. Brokers store and deliver it unchanged.
   */
  readonly expiresAt?: number;
  /**
   * A dedupe window in ms (with a fixed `id`): for this long after the enqueue that creates the
   * message, also after it ended, another enqueue of the id creates nothing (`created: false`).
   * Only for brokers that claim `dedupe`; not stored with the message.
   */
  readonly dedupeMs?: number;
  /**
   * A debounce in ms (with a fixed `id`; `executeAt` is then the enqueue time plus it): when a
   * message of the id is waiting (ready, delayed or held by a limit), this one replaces it (its
   * payload, options and due time; `created: false`); when one is running, this one is kept and
   * replaces it at its settlement (whatever the settlement), so the job runs once more, with these
   * arguments. Only for brokers that claim `debounce`; not stored with the message.
   */
  readonly debounceMs?: number;
  /**
   * The caller's open database transaction (for the Postgres broker, a `pg.Client` or
   * `pg.PoolClient` inside `BEGIN`): the message is stored by that transaction, so it exists
   * from its commit on and never after a rollback. Only for brokers that claim `transactions`;
   * never stored or delivered.
   */
  readonly transaction?: unknown;
}

/** A message as stored and delivered. */
export interface Message extends OutgoingMessage {
  /** 1 for the first run; raised by one on each retry, unchanged by rejects and lease expiry. */
  readonly attempt: number;
  /** Epoch ms when the message was first enqueued. */
  readonly enqueuedAt: number;
  /**
   * How many leases on this message in a row ended without a settlement (expired, or their
   * consumer's heartbeat expired). Every applied settlement resets it to 0, so a periodic job or a
   * retried one starts each new run clean.
   */
  readonly stalls: number;
}

/** A message handed to a consumer, under a lease. */
export interface Delivery {
  readonly message: Message;
  /** Fencing token of this lease; settle and renew only succeed with the current token. */
  readonly token: string;
  /** Epoch ms when the lease expires unless renewed. */
  readonly leaseUntil: number;
}

/** A stored outcome of a finished job. */
export type StoredResult =
  | { readonly ok: true; readonly value: string | undefined; readonly finishedAt: number }
  | {
      readonly ok: false;
      readonly error: FailureInfo;
      readonly attempts: number;
      readonly finishedAt: number;
    };

/** A result to store with a settlement, and how long to keep it. */
export interface KeptResult {
  readonly stored: StoredResult;
  readonly ttlMs: number;
}

/** How a consumer ends its hold on a delivery. */
export type Settlement =
  /** Done: the message leaves the broker. `result` is stored first when the message asked for it. */
  | { readonly kind: "ack"; readonly delivery: Delivery; readonly result?: KeptResult }
  /**
   * Back to the queue as the same id: ready at once when `executeAt` is absent or past, delayed
   * otherwise. `attempt` becomes the message's attempt (same for a reject, +1 for a retry, 1 for
   * the next run of a periodic job). A result given is stored in the same atomic step.
   */
  | {
      readonly kind: "requeue";
      readonly delivery: Delivery;
      readonly attempt: number;
      readonly executeAt?: number;
      readonly lastError?: FailureInfo;
      readonly result?: KeptResult;
    }
  /** Never to run again: kept in the queue's dead-letter store with `error`. */
  | {
      readonly kind: "dead";
      readonly delivery: Delivery;
      readonly error: FailureInfo;
      readonly result?: KeptResult;
    };

export interface DeadLetter {
  readonly message: Message;
  readonly error: FailureInfo;
  /** Epoch ms when the message was dead-lettered. */
  readonly failedAt: number;
}

export interface QueueCounts {
  readonly ready: number;
  readonly delayed: number;
  readonly running: number;
  readonly dead: number;
  /**
   * Waiting for a limit of their actor (see `TopicLimits`): due, but held until a concurrency
   * slot frees or the rate window allows a start. Absent when none (always, on brokers without
   * `limits`).
   */
  readonly limited?: number;
  /** `limited` per actor (topic), present with it. */
  readonly limitedBy?: Readonly<Record<string, number>>;
}

/** Which limit holds a waiting message, and for which key. */
export interface HeldBy {
  readonly limit: "concurrency" | "rateLimit";
  /** The key value (`""` for a limit without key). */
  readonly key: string;
  /** The limit's number (slots, or starts per window). */
  readonly max: number;
}

export interface EnqueueOutcome {
  readonly id: string;
  /**
   * False when a message with this id already existed in the queue (nothing was added; for a
   * periodic message, its definition was replaced, see `enqueue`).
   */
  readonly created: boolean;
}

/** A periodic message as `schedules()` lists it. */
export interface ScheduleInfo {
  readonly id: string;
  readonly queue: string;
  /** The actor it runs. */
  readonly topic: string;
  readonly schedule: Schedule;
  /** Epoch ms of its next run (while running: of the run in progress). */
  readonly nextRunAt: number;
  readonly state: "ready" | "delayed" | "running";
}

/** Where a watched job stands (see `JobUpdate`): `failed` is an attempt that will be retried. */
export type JobUpdateState = "waiting" | "running" | "succeeded" | "failed" | "dead";

/** The last thing a job said about itself: its lifecycle and its progress (see `publishUpdate`). */
export interface JobUpdate {
  readonly state: JobUpdateState;
  readonly attempt: number;
  /** JSON text of the value the actor passed to `ctx.progress`, if any. */
  readonly progress?: string;
  /** Epoch ms when it was published. */
  readonly at: number;
}

import type { MessageBroker, OutgoingMessage, PriorityLevel, Schedule } from "../brokers/broker.js";
import type { Connection } from "../connection/connection.js";
import { toMs, type Duration } from "../core/duration.js";
import { InvalidOptionError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import {
  checkKnownKeys,
  checkNonEmptyString,
  checkNonNegativeInteger,
  checkObject,
} from "../core/validate.js";
import { checkDebounce, checkHeaders, encodeArgs, resultTtl, toEpochMs } from "./job-checks.js";
import { Priority, priorityLevel } from "../core/priority.js";
import { Queue } from "./queue.js";
import { resolveConnection } from "../connection/repid.js";
import { JobHandle, type ResultDecoder } from "./result.js";
import { checkCron, nextRunAt } from "../core/schedule.js";
import { withWatch } from "./job-watch.js";

/** Options of a job; all optional. */
export interface JobOptions<TArgs = unknown> {
  /** A queue name or `Queue`. @defaultValue `new Queue("default")` */
  readonly queue?: string | Queue;
  /** @defaultValue Priority.MEDIUM */
  readonly priority?: Priority;
  /** A fixed id makes the job unique: no second message while one with this id exists. */
  readonly id?: string;
  /** Retries after a failed first attempt. @defaultValue 0 */
  readonly retries?: number;
  /** Time allowed for one attempt. @defaultValue "10m" */
  readonly timeout?: Duration;
  /** The actor's arguments: one JSON value. */
  readonly args?: TArgs;
  /** Do not run before this time (a `Date` or epoch ms). */
  readonly deferUntil?: Date | number;
  /** Do not run before this much time has passed; with `recurring`, the interval. */
  readonly deferBy?: Duration;
  /**
   * Run every `deferBy` for ever (rescheduled after each run). An interval under 100 ms is
   * refused unless `shortInterval` is set too. @defaultValue false
   */
  readonly recurring?: boolean;
  /**
   * Allow `recurring` with a `deferBy` under 100 ms (a job that runs ten times a second or more,
   * for ever, is usually a unit mistake: `deferBy: 1` is one millisecond). @defaultValue false
   */
  readonly shortInterval?: boolean;
  /**
   * Time to live: a job whose first attempt has not started within this time of being due (of
   * being enqueued, for a job that is not deferred) is dead-lettered as `EXPIRED`, never run.
   * Retries of an attempt that started are not cut short. Not for periodic jobs.
   * @defaultValue none (a job waits as long as it takes)
   */
  readonly ttl?: Duration;
  /**
   * A dedupe window (needs `id`): for this long after the enqueue that creates the job, also
   * after it ran, enqueueing the same id creates nothing and returns this job's handle
   * (`created: false`; its `result()` gives the stored result). In-memory and Redis brokers.
   * @defaultValue none (an id is free again once its job ended)
   */
  readonly dedupe?: Duration;
  /**
   * Debounce (needs `id`): the job runs once, this long after the last enqueue of its id, with
   * the last enqueue's arguments and options. An enqueue while the job waits replaces it and
   * moves its start (`created: false`); one while it runs is kept and runs after it, as the
   * next run. Every handle resolves to the run that follows its enqueue. In-memory and Redis.
   * @defaultValue none
   */
  readonly debounce?: Duration;
  /** Run on a cron schedule (UTC); rescheduled after each run. */
  readonly cron?: string;
  /** Keep the result for `handle.result()`: `true` for one day, or a time to live. @defaultValue false */
  readonly storeResult?: boolean | Duration;
  /** Use this connection instead of the ambient `magic()` one. */
  readonly connection?: Connection;
  /**
   * Metadata sent with the message (`onEnqueue` hooks may add more). The generated client sets
   * `repid-schema` to the actor's schema fingerprint. @defaultValue none
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Publish the job's lifecycle for `handle.watch()` (progress is published anyway). */
  readonly watch?: boolean;
  /**
   * Enqueue inside your own database transaction (Postgres broker: the `pg.Client` or
   * `pg.PoolClient` on which you ran `BEGIN`): the job exists from your `COMMIT` on, and never
   * after a `ROLLBACK`. Brokers without transactions refuse it with `NotSupportedError`.
   * @defaultValue none (the broker's own connection)
   */
  readonly transaction?: unknown;
}

/** The shortest `recurring` interval taken without `shortInterval: true`. */
const MIN_INTERVAL_MS = 100;

const KNOWN = [
  "queue",
  "priority",
  "id",
  "retries",
  "timeout",
  "args",
  "deferUntil",
  "deferBy",
  "recurring",
  "shortInterval",
  "cron",
  "storeResult",
  "ttl",
  "dedupe",
  "debounce",
  "connection",
  "headers",
  "watch",
  "transaction",
] as const;

const TEN_MINUTES = 600_000;

/**
 * What to run and how: the actor `name`, its queue, priority, retries, timeout and arguments.
 * @example await new Job("send_email", { args: { to: "a@b.c" }, retries: 3 }).enqueue();
 */
export class Job<TArgs = unknown, TResult = unknown> {
  readonly name: string;
  readonly queue: Queue;
  readonly priority: Priority;
  readonly id: string | undefined;
  readonly retries: number;
  readonly timeoutMs: number;
  readonly args: TArgs | undefined;
  readonly deferUntil: number | undefined;
  readonly deferByMs: number | undefined;
  readonly recurring: boolean;
  readonly cron: string | undefined;
  readonly resultTtlMs: number | undefined;
  /** See `ttl`. */
  readonly ttlMs: number | undefined;
  /** See `dedupe`. */
  readonly dedupeMs: number | undefined;
  /** See `debounce`. */
  readonly debounceMs: number | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly #connection: Connection | undefined;
  readonly #transaction: unknown;
  readonly #payload: string | undefined;
  readonly #level: PriorityLevel;
  declare readonly __result?: TResult;

  constructor(name: string, options: JobOptions<TArgs> = {}) {
    this.name = checkNonEmptyString("name", name);
    const opts = checkObject("options", options);
    checkKnownKeys("Job", opts, KNOWN);
    const queue = options.queue ?? "default";
    if (!(queue instanceof Queue) && typeof queue !== "string") {
      throw new InvalidOptionError("queue", "expected a queue name or a Queue");
    }
    this.queue = queue instanceof Queue ? queue : new Queue(queue);
    this.priority = options.priority ?? Priority.MEDIUM;
    this.#level = priorityLevel(this.priority);
    this.id = options.id === undefined ? undefined : checkNonEmptyString("id", options.id);
    this.retries = checkNonNegativeInteger("retries", options.retries ?? 0);
    this.timeoutMs = toMs(options.timeout ?? TEN_MINUTES, "timeout");
    if (this.timeoutMs === 0) throw new InvalidOptionError("timeout", "must be greater than zero");
    this.args = options.args;
    this.#payload = encodeArgs(options.args);
    this.deferUntil = toEpochMs(options.deferUntil);
    this.deferByMs = options.deferBy === undefined ? undefined : toMs(options.deferBy, "deferBy");
    this.recurring = options.recurring ?? false;
    if (typeof this.recurring !== "boolean")
      throw new InvalidOptionError("recurring", "expected a boolean");
    this.cron =
      options.cron === undefined ? undefined : checkCron(checkNonEmptyString("cron", options.cron));
    if (this.cron !== undefined && this.deferByMs !== undefined) {
      throw new InvalidOptionError("cron", "cannot be combined with deferBy: choose one schedule");
    }
    if (this.cron !== undefined && this.deferUntil !== undefined) {
      throw new InvalidOptionError(
        "cron",
        "cannot be combined with deferUntil: the schedule sets the first run",
      );
    }
    if (this.recurring && (this.deferByMs === undefined || this.deferByMs === 0)) {
      throw new InvalidOptionError("recurring", "needs a positive deferBy interval");
    }
    if (options.shortInterval !== undefined && typeof options.shortInterval !== "boolean")
      throw new InvalidOptionError("shortInterval", "expected a boolean");
    if (
      this.recurring &&
      this.deferByMs !== undefined &&
      this.deferByMs < MIN_INTERVAL_MS &&
      options.shortInterval !== true
    ) {
      throw new InvalidOptionError(
        "deferBy",
        `a recurring interval of ${this.deferByMs} ms runs the job ${Math.round(1000 / this.deferByMs)} times a second for ever; durations are milliseconds ("1s", "5m" for longer ones). Set shortInterval: true if you mean it`,
      );
    }
    this.resultTtlMs = resultTtl(options.storeResult);
    this.ttlMs = options.ttl === undefined ? undefined : toMs(options.ttl, "ttl");
    if (this.ttlMs === 0) throw new InvalidOptionError("ttl", "must be greater than zero");
    this.dedupeMs = options.dedupe === undefined ? undefined : toMs(options.dedupe, "dedupe");
    if (this.dedupeMs === 0) throw new InvalidOptionError("dedupe", "must be greater than zero");
    if (this.dedupeMs !== undefined && this.id === undefined) {
      throw new InvalidOptionError("dedupe", "needs an id: the window keeps that id taken");
    }
    if (this.dedupeMs !== undefined && (this.cron !== undefined || this.recurring)) {
      throw new InvalidOptionError("dedupe", "cannot be combined with a periodic job");
    }
    this.debounceMs =
      options.debounce === undefined ? undefined : toMs(options.debounce, "debounce");
    if (this.debounceMs !== undefined) checkDebounce(this);
    if (this.ttlMs !== undefined && (this.cron !== undefined || this.recurring)) {
      throw new InvalidOptionError(
        "ttl",
        "cannot be combined with a periodic job (cron or recurring): its next runs would expire on the first run's time",
      );
    }
    this.headers = withWatch(checkHeaders(options.headers), options.watch);
    this.#connection = options.connection;
    this.#transaction = options.transaction;
  }

  /**
   * True exactly when an `id` was given: then enqueueing twice yields one message. (A periodic
   * job without an id still sends one message per name, queue and schedule: see `toMessage`.)
   */
  get isUnique(): boolean {
    return this.id !== undefined;
  }

  // A job that asked for a result will have one; without `storeResult` its actor may still keep
  // one, which the producer cannot know.
  get #known(): { readonly storesResult?: boolean; readonly actor: string } {
    return this.resultTtlMs !== undefined
      ? { storesResult: true, actor: this.name }
      : { actor: this.name };
  }

  /** The schedule of a periodic job, if it is one. */
  get schedule(): Schedule | undefined {
    if (this.cron !== undefined) return { cron: this.cron };
    if (this.recurring && this.deferByMs !== undefined) return { everyMs: this.deferByMs };
    return undefined;
  }

  /**
   * Sends one message for this job. Throws `QueueNotDeclaredError` if the queue is not declared.
   * A unique job whose id already waits, is delayed or runs is not added again (`created: false`).
   */
  async enqueue(options: { readonly connection?: Connection } = {}): Promise<JobHandle<TResult>> {
    const connection = await connectionFor(options.connection ?? this.#connection);
    const broker = connection.broker;
    const [outcome] = await connection.enqueue([this.toMessage()]);
    return new JobHandle<TResult>(
      broker,
      this.queue.name,
      outcome!.id,
      outcome!.created,
      undefined,
      {
        ...this.#known,
      },
    );
  }

  /** Builds the message this job sends now (a fresh id unless the job is unique). */
  toMessage(now = Date.now()): OutgoingMessage {
    const schedule = this.schedule;
    let executeAt = this.deferUntil;
    if (this.deferByMs !== undefined) executeAt = now + this.deferByMs;
    if (this.cron !== undefined) executeAt = nextRunAt({ cron: this.cron }, now, now);
    if (this.debounceMs !== undefined) executeAt = now + this.debounceMs;
    const message: { -readonly [K in keyof OutgoingMessage]: OutgoingMessage[K] } = {
      // A periodic job declared by several producers, or on every start, must not multiply.
      id: this.id ?? (schedule ? periodicId(this.name, this.queue.name) : newId()),
      queue: this.queue.name,
      topic: this.name,
      payload: this.#payload,
      priority: this.#level,
      retries: this.retries,
      timeoutMs: this.timeoutMs,
    };
    if (executeAt !== undefined) message.executeAt = executeAt;
    if (schedule) message.schedule = schedule;
    if (this.ttlMs !== undefined) message.expiresAt = (executeAt ?? now) + this.ttlMs;
    if (this.dedupeMs !== undefined) message.dedupeMs = this.dedupeMs;
    if (this.debounceMs !== undefined) message.debounceMs = this.debounceMs;
    if (this.resultTtlMs !== undefined) message.resultTtlMs = this.resultTtlMs;
    if (this.headers !== undefined) message.headers = this.headers;
    if (this.#transaction !== undefined) message.transaction = this.#transaction;
    return message;
  }

  /**
   * A handle on a job enqueued elsewhere, to await its result. Give its `queue` when known: the
   * Redis broker keeps results under their queue (without it, it first looks for the job).
   */
  static async result<TResult = unknown>(
    id: string,
    options: {
      readonly connection?: Connection;
      readonly timeout?: Duration;
      readonly decode?: ResultDecoder<TResult>;
      readonly queue?: string;
    } = {},
  ): Promise<TResult> {
    const broker = await brokerFor(options.connection);
    return new JobHandle<TResult>(broker, options.queue ?? "", id, false, options.decode).result(
      options.timeout === undefined ? {} : { timeout: options.timeout },
    );
  }
}

/** Enqueues many jobs in one broker call (one round trip on Redis). */
export async function enqueueMany(
  jobs: readonly Job[],
  options: { readonly connection?: Connection } = {},
): Promise<JobHandle[]> {
  const connection = await connectionFor(options.connection);
  const broker = connection.broker;
  const now = Date.now();
  const messages = jobs.map((job) => job.toMessage(now));
  const outcomes = await connection.enqueue(messages);
  return outcomes.map((o, i) => {
    const message = messages[i]!;
    const stores = message.resultTtlMs !== undefined ? { storesResult: true } : {};
    return new JobHandle(broker, message.queue, o.id, o.created, undefined, {
      ...stores,
      actor: message.topic,
    });
  });
}

async function brokerFor(explicit: Connection | undefined): Promise<MessageBroker> {
  return (await connectionFor(explicit)).broker;
}

async function connectionFor(explicit: Connection | undefined): Promise<Connection> {
  const connection = resolveConnection(explicit);
  if (!connection.isConnected) await connection.connect();
  return connection;
}

/**
 * One schedule per actor and queue unless the user gives ids: declaring the job again with
 * another schedule replaces the stored one (the broker replaces periodic messages by id).
 */
function periodicId(name: string, queue: string): string {
  return `periodic:${queue}:${name}`;
}

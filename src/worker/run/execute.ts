import type {
  Delivery,
  FailureInfo,
  KeptResult,
  Message,
  Settlement,
} from "../../brokers/broker.js";
import {
  ActorAbortedError,
  InvalidPayloadError,
  JobCancelledError,
  JobExpiredError,
  RepidError,
  UnknownActorError,
  ValidationError,
  toFailureInfo,
} from "../../core/errors.js";
import type { Registry } from "../../core/registry.js";
import { SCHEMA_HEADER, zodIssues } from "../../core/registry.js";
import type { Actor, ActorContext } from "../router.js";
import { nextRunAt } from "../../core/schedule.js";
import type { Cancellation } from "./cancellation.js";
import type { Logger } from "../../core/logger.js";
import type { HookSet } from "../../connection/hook-set.js";
import type { ExecutorPool } from "../pool/executor-pool.js";
import { checkOtherSchema } from "./schema-check.js";
import type { SchemaVersions } from "./schema-versions.js";
import type { Updates } from "./updates.js";

/** Why an attempt was cut short from outside the actor. */
export class LeaseLostError extends RepidError {
  constructor() {
    super("ACTOR_ABORTED", "The message's lease was lost (another worker may hold it now)");
  }
}

export type Outcome =
  "succeeded" | "retried" | "deadLettered" | "rescheduled" | "rejected" | "lost";

export interface ExecuteDeps {
  readonly actors: ReadonlyMap<string, Actor>;
  readonly registry: Registry | undefined;
  readonly pools: { thread: () => ExecutorPool; process: () => ExecutorPool };
  /** `aroundRun` hooks; skipped entirely when there are none. */
  readonly hooks: HookSet;
  /** Counts and reports messages written with another schema than the registry's. */
  readonly schemas: SchemaVersions;
  readonly logger: Logger;
  /** The worker's slots (named in the warning about an aborted body that runs on). */
  readonly concurrency: number;
  /** Publishes `ctx.progress` values (see updates.ts). */
  readonly updates: Updates;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** How to settle a delivery; `failed` is true when the actor ran and threw or timed out. */
export interface Executed {
  readonly settlement: Settlement | undefined;
  readonly outcome: Outcome;
  readonly failed: boolean;
  /** The actor's result (JSON text) when it succeeded: a flow passes it to its next step. */
  readonly value?: string | undefined;
}

type Attempt =
  { ok: true; value: string | undefined } | { ok: false; error: FailureInfo; cause: unknown };

/**
 * Runs one delivery to its end and says how to settle it (or `undefined` when the lease was lost
 * and the message is no longer ours to settle).
 */
export async function execute(
  delivery: Delivery,
  controller: Cancellation,
  deps: ExecuteDeps,
): Promise<Executed> {
  const message = delivery.message;
  // A first attempt that comes too late never runs (its ttl); a retry is not cut short.
  if (message.expiresAt !== undefined && message.attempt === 1) {
    const now = Date.now();
    if (now > message.expiresAt)
      return dead(delivery, new JobExpiredError(message.expiresAt, now), message.resultTtlMs);
  }
  const actor = deps.actors.get(message.topic);
  if (!actor) return dead(delivery, new UnknownActorError(message.topic), message.resultTtlMs);
  const ttl = message.resultTtlMs ?? actor.resultTtlMs;

  let args: unknown;
  try {
    args = message.payload === undefined ? undefined : JSON.parse(message.payload);
  } catch (error) {
    return dead(
      delivery,
      new InvalidPayloadError(`Payload is not valid JSON: ${(error as Error).message}`),
      ttl,
    );
  }
  const definition = deps.registry?.[message.topic];
  if (definition) {
    const sent = message.headers?.[SCHEMA_HEADER];
    if (sent === undefined || sent === definition.fingerprint || !definition.fingerprint) {
      const parsed = definition.args.safeParse(args);
      if (!parsed.success)
        return dead(delivery, new ValidationError(actor.name, zodIssues(parsed.error)), ttl);
      args = parsed.data;
    } else {
      const checked = await checkOtherSchema(
        definition.args,
        definition.fingerprint,
        sent,
        actor,
        message,
        args,
        deps.schemas,
      );
      if (!checked.ok) return dead(delivery, checked.error, ttl);
      args = checked.args;
    }
  }

  const timeoutMs = Math.min(message.timeoutMs, actor.timeoutMs ?? Infinity);
  const attempt = deps.hooks.hasAround
    ? await deps.hooks.run(
        {
          id: message.id,
          actor: actor.name,
          queue: message.queue,
          attempt: message.attempt,
          headers: message.headers ?? NO_HEADERS,
          enqueuedAt: message.enqueuedAt,
          startedAt: Date.now(),
        },
        () => runActor(actor, delivery, args, timeoutMs, controller, deps),
      )
    : await runActor(actor, delivery, args, timeoutMs, controller, deps);
  try {
    return afterRun(delivery, actor, attempt, ttl);
  } catch (error) {
    // The actor ran, but deciding what comes next failed (a stored schedule that no longer
    // parses, say): the attempt still ends, with the real error, instead of staying leased.
    return { ...dead(delivery, error as Error, ttl), failed: !attempt.ok };
  }
}

/** The settlement for an attempt that ran (or was cut short). */
function afterRun(
  delivery: Delivery,
  actor: Actor,
  attempt: Attempt,
  ttl: number | undefined,
): Executed {
  const message = delivery.message;
  const now = Date.now();

  if (!attempt.ok && attempt.cause instanceof LeaseLostError) {
    return { settlement: undefined, outcome: "lost", failed: false };
  }
  if (!attempt.ok && attempt.cause instanceof JobCancelledError) {
    // Cancelled by an operator: never retried nor rescheduled.
    const cancelled = attempt.cause;
    return cancelled.mode === "ack"
      ? { settlement: { kind: "ack", delivery }, outcome: "succeeded", failed: false }
      : {
          settlement: { kind: "dead", delivery, error: attempt.error },
          outcome: "deadLettered",
          failed: false,
        };
  }
  if (!attempt.ok && attempt.cause instanceof ActorAbortedError) {
    return {
      settlement: { kind: "requeue", delivery, attempt: message.attempt },
      outcome: "rejected",
      failed: false,
    };
  }
  const failed = !attempt.ok;
  if (!attempt.ok && message.attempt <= message.retries && attempt.error.code !== "NO_RETRY") {
    const delay = actor.retryPolicy(message.attempt);
    return {
      settlement: {
        kind: "requeue",
        delivery,
        attempt: message.attempt + 1,
        executeAt: now + (Number.isFinite(delay) && delay > 0 ? delay : 0),
        lastError: attempt.error,
      },
      outcome: "retried",
      failed,
    };
  }
  const result: KeptResult | undefined =
    ttl === undefined
      ? undefined
      : attempt.ok
        ? { ttlMs: ttl, stored: { ok: true, value: attempt.value, finishedAt: now } }
        : failedResult(attempt.error, message.attempt, ttl, now);
  const next = message.schedule
    ? nextRunAt(message.schedule, now, message.executeAt ?? now)
    : undefined;
  if (next !== undefined) {
    return {
      settlement: {
        kind: "requeue",
        delivery,
        attempt: 1,
        executeAt: next,
        ...(attempt.ok ? {} : { lastError: attempt.error }),
        ...(result ? { result } : {}),
      },
      outcome: "rescheduled",
      failed,
    };
  }
  if (attempt.ok) {
    // The hot path: no spreads, one object shape per case.
    return {
      settlement: result ? { kind: "ack", delivery, result } : { kind: "ack", delivery },
      outcome: "succeeded",
      failed,
      value: attempt.value,
    };
  }
  return {
    settlement: { kind: "dead", delivery, error: attempt.error, ...(result ? { result } : {}) },
    outcome: "deadLettered",
    failed,
  };
}

/** Dead-letters a message the actor never saw (bad input), storing the failure as its result. */
function dead(delivery: Delivery, cause: Error, ttl: number | undefined): Executed {
  const error = toFailureInfo(cause);
  const result =
    ttl === undefined ? undefined : failedResult(error, delivery.message.attempt, ttl, Date.now());
  return {
    settlement: { kind: "dead", delivery, error, ...(result ? { result } : {}) },
    outcome: "deadLettered",
    failed: false,
  };
}

function failedResult(
  error: FailureInfo,
  attempts: number,
  ttlMs: number,
  now: number,
): KeptResult {
  return { ttlMs, stored: { ok: false, error, attempts, finishedAt: now } };
}

async function runActor(
  actor: Actor,
  delivery: Delivery,
  args: unknown,
  timeoutMs: number,
  controller: Cancellation,
  deps: ExecuteDeps,
): Promise<Attempt> {
  const message = delivery.message;
  try {
    if (actor.mode === "async") {
      controller.startTimer(timeoutMs);
      const body = actor.fn(
        args,
        new Context(message, actor.name, controller, deps.updates),
      ) as Promise<unknown>;
      try {
        const value = await raceAbort(body, controller);
        return { ok: true, value: value === undefined ? undefined : JSON.stringify(value) };
      } catch (error) {
        // Aborted while the body still runs: the attempt ends with it, keeping its slot, its
        // lease and its settlement (a retry elsewhere would run beside it), unless a forced stop
        // lets go of it.
        if (controller.aborted && error === controller.reason) {
          await lingerOn(Promise.resolve(body), controller, message, deps);
        }
        throw error;
      }
    }
    // The pool times a sync call itself, from the moment it reaches a thread or process.
    const pool = actor.mode === "thread" ? deps.pools.thread() : deps.pools.process();
    const outcome = await pool.run(
      {
        type: "run",
        module: actor.module ?? "",
        actor: actor.name,
        args,
        jobId: message.id,
        attempt: message.attempt,
        queue: message.queue,
        headers: message.headers ?? NO_HEADERS,
      },
      timeoutMs,
      controller.signal,
      (text) =>
        void deps.updates.progress(message, JSON.parse(text)).catch((error: unknown) =>
          deps.logger.warn(`repid: progress of job "${message.id}" was not published`, {
            jobId: message.id,
            error,
          }),
        ),
    );
    return outcome.ok ? outcome : { ...outcome, cause: undefined };
  } catch (error) {
    const cause = controller.aborted ? controller.reason : error;
    return { ok: false, error: toFailureInfo(cause), cause };
  }
}

/** The context an async actor receives; its AbortSignal is made only if the actor reads it. */
class Context implements ActorContext {
  readonly jobId: string;
  readonly attempt: number;
  readonly queue: string;
  readonly actor: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly #cancel: Cancellation;
  readonly #message: Message;
  readonly #updates: Updates;

  constructor(message: Message, actor: string, cancel: Cancellation, updates: Updates) {
    this.jobId = message.id;
    this.attempt = message.attempt;
    this.queue = message.queue;
    this.actor = actor;
    this.headers = message.headers ?? NO_HEADERS;
    this.#cancel = cancel;
    this.#message = message;
    this.#updates = updates;
  }

  get signal(): AbortSignal {
    return this.#cancel.signal;
  }

  progress(value: unknown): Promise<void> {
    return this.#updates.progress(this.#message, value);
  }
}

/** How long an aborted async body may run on before the worker warns that it holds a slot. */
const LINGER_WARN_MS = 10_000;

async function lingerOn(
  body: Promise<unknown>,
  controller: Cancellation,
  message: Message,
  deps: ExecuteDeps,
): Promise<void> {
  const warning = setTimeout(() => {
    deps.logger.warn(
      `repid: actor "${message.topic}" did not end when job "${message.id}" was aborted (it ignores ctx.signal): its body still runs ${LINGER_WARN_MS / 1000} s later and holds one of the worker's ${deps.concurrency} slots; the job settles when it ends`,
      { id: message.id, actor: message.topic },
    );
  }, LINGER_WARN_MS);
  warning.unref();
  await controller.linger(body);
  clearTimeout(warning);
}

function raceAbort<T>(promise: Promise<T>, cancel: Cancellation): Promise<T> {
  if (cancel.aborted) return Promise.reject(cancel.reason);
  return new Promise<T>((resolve, reject) => {
    cancel.onAbort(reject);
    promise.then(
      (value) => {
        cancel.offAbort();
        resolve(value);
      },
      (error: unknown) => {
        cancel.offAbort();
        reject(error);
      },
    );
  });
}

import type { Duration } from "../core/duration.js";
import { toMs } from "../core/duration.js";
import { InvalidOptionError } from "../core/errors.js";
import {
  topicLimits,
  type ConcurrencyLimit,
  type RateLimit,
  type TopicLimits,
} from "../core/limits.js";
import { callerModule } from "./caller.js";
import { publishActor } from "./actor-table.js";
import {
  checkKnownKeys,
  checkNonEmptyString,
  checkObject,
  checkQueueName,
} from "../core/validate.js";
import { defaultRetryPolicy, type RetryPolicy } from "./retry-policy.js";

// What an actor function is; in its own file so that the actor table can name it too.
export type { ActorContext, ActorFunction } from "./actor-function.js";
import type { ActorFunction } from "./actor-function.js";

/**
 * Upcasters of an actor: for each older schema fingerprint (as that version's generated registry
 * wrote it), a function from that version's arguments to the current ones. Declare the old
 * parameter's type yourself (`repid-gen --compat` checks it accepts that version's arguments);
 * the result is validated with the current schema before the actor runs.
 * @example { "3f9a0c1b2d4e": (old: { to: string }) => ({ to: [old.to], locale: "en" }) }
 */
export type Upcasters<TArgs = unknown> = {
  readonly [fingerprint: string]: (old: never) => TArgs | Promise<TArgs>;
};

/** The arguments an actor function takes. */
export type ActorArgsOf<F> = F extends (args: infer TArgs, ...rest: never[]) => unknown
  ? TArgs
  : unknown;

export interface ActorOptions<TArgs = any> {
  /** @defaultValue the function's name */
  readonly name?: string;
  /** @defaultValue "default" */
  readonly queue?: string;
  /** Delay before each retry. @defaultValue defaultRetryPolicy (exponential, 10 s to 1 day) */
  readonly retryPolicy?: RetryPolicy;
  /** Run a sync actor in a child process instead of a worker thread. @defaultValue false */
  readonly runInProcess?: boolean;
  /** Caps the job's own timeout for this actor. */
  readonly timeout?: Duration;
  /** Keep results of this actor's jobs: `true` for one day, or a time to live. @defaultValue false */
  readonly storeResult?: boolean | Duration;
  /**
   * The module that exports or registers the actor, for sync actors run in threads/processes.
   * @defaultValue the module that called `actor()` (pass `import.meta.url` to be explicit)
   */
  readonly module?: string;
  /**
   * Turns messages written with an older schema into the current arguments, instead of
   * dead-lettering them (see `Upcasters`). Needs the worker's `registry`. @defaultValue none
   */
  readonly upcast?: Upcasters<TArgs>;
  /**
   * At most this many of the actor's jobs run at once across every worker of the queue: a number
   * (per actor), or `{ limit, key }` with `key` a dotted path into the arguments (per value,
   * keys served in turn). Counts leased jobs, also those a worker prefetched. @defaultValue none
   */
  readonly concurrency?: number | ConcurrencyLimit<TArgs>;
  /**
   * At most `limit` of the actor's jobs start in any window of `per` across every worker (per
   * value of `key` when given). @defaultValue none
   */
  readonly rateLimit?: RateLimit<TArgs>;
}

/** A registered actor, as a worker sees it. */
export interface Actor {
  readonly name: string;
  readonly queue: string;
  readonly fn: ActorFunction;
  readonly retryPolicy: RetryPolicy;
  /** "async" runs on the event loop, "thread" in a worker thread, "process" in a child process. */
  readonly mode: "async" | "thread" | "process";
  readonly timeoutMs: number | undefined;
  readonly resultTtlMs: number | undefined;
  readonly module: string | undefined;
  /** Upcasters by the fingerprint they read; absent when none. */
  readonly upcasts?: ReadonlyMap<string, (old: unknown) => unknown>;
  /** Limits across every worker (`concurrency`, `rateLimit`); absent when none. */
  readonly limits?: TopicLimits;
}

const KNOWN = [
  "name",
  "queue",
  "retryPolicy",
  "runInProcess",
  "timeout",
  "storeResult",
  "module",
  "upcast",
  "concurrency",
  "rateLimit",
] as const;

/**
 * A set of actors. `actor()` registers a function and returns it unchanged.
 * @example
 * const router = new Router();
 * export const hello = router.actor(async function hello() { ... });
 */
export class Router {
  readonly #actors = new Map<string, Actor>();

  /** The registered actors by name. */
  get actors(): ReadonlyMap<string, Actor> {
    return this.#actors;
  }

  actor<F extends ActorFunction>(fn: F): F;
  actor<F extends ActorFunction>(options: ActorOptions<ActorArgsOf<F>>, fn: F): F;
  actor<F extends ActorFunction>(a: F | ActorOptions, b?: F): F {
    const fn = typeof a === "function" ? a : b;
    const options = typeof a === "function" ? {} : checkObject("options", a);
    if (typeof fn !== "function") throw new InvalidOptionError("fn", "expected the actor function");
    checkKnownKeys("actor", options, KNOWN);
    const opts = options as ActorOptions;
    const name = checkNonEmptyString("name", opts.name ?? fn.name);
    if (opts.retryPolicy !== undefined && typeof opts.retryPolicy !== "function") {
      throw new InvalidOptionError("retryPolicy", "expected a function (retryNumber) => ms");
    }
    if (opts.runInProcess !== undefined && typeof opts.runInProcess !== "boolean") {
      throw new InvalidOptionError("runInProcess", "expected a boolean");
    }
    const isAsync = isAsyncFunction(fn);
    if (opts.runInProcess && isAsync) {
      throw new InvalidOptionError(
        "runInProcess",
        `actor "${name}" is async; only sync actors run in a process`,
      );
    }
    const timeoutMs = opts.timeout === undefined ? undefined : toMs(opts.timeout, "timeout");
    const ttl = opts.storeResult;
    const module = isAsync ? undefined : (opts.module ?? callerModule());
    const upcasts = readUpcasts(opts.upcast);
    const limits = topicLimits(opts.concurrency, opts.rateLimit);
    const actor: Actor = {
      name,
      queue: checkQueueName(opts.queue ?? "default"),
      fn,
      retryPolicy: opts.retryPolicy ?? defaultRetryPolicy,
      mode: isAsync ? "async" : opts.runInProcess ? "process" : "thread",
      timeoutMs,
      resultTtlMs:
        ttl === undefined || ttl === false
          ? undefined
          : ttl === true
            ? 86_400_000
            : toMs(ttl, "storeResult"),
      module,
      ...(upcasts ? { upcasts } : {}),
      ...(limits ? { limits } : {}),
    };
    this.register(actor);
    if (module) publishActor(module, name, fn);
    return fn;
  }

  /** Adds an actor record; one with the same name is replaced. Returns the replaced one. */
  protected register(actor: Actor): Actor | undefined {
    const previous = this.#actors.get(actor.name);
    this.#actors.set(actor.name, actor);
    return previous;
  }
}

const FINGERPRINT = /^[0-9a-f]{12}$/;

function readUpcasts(
  value: Upcasters | undefined,
): ReadonlyMap<string, (old: unknown) => unknown> | undefined {
  if (value === undefined) return undefined;
  const entries = Object.entries(checkObject("upcast", value));
  for (const [key, fn] of entries) {
    if (!FINGERPRINT.test(key))
      throw new InvalidOptionError(
        "upcast",
        `"${key}" is not a schema fingerprint (12 hex digits, as a generated registry's \`fingerprint\`)`,
      );
    if (typeof fn !== "function")
      throw new InvalidOptionError("upcast", `"${key}" must map to a function (old) => args`);
  }
  return entries.length === 0
    ? undefined
    : new Map(entries as [string, (old: unknown) => unknown][]);
}

function isAsyncFunction(fn: Function): boolean {
  const kind = fn.constructor?.name;
  return kind === "AsyncFunction";
}

/**
 * Flow-control limits of an actor as users write them (`concurrency`, `rateLimit`), their
 * check into the broker's form (`TopicLimits`), typed key paths, and reading a key from a
 * message's payload (the in-memory broker does it here; the Redis scripts do the same in Lua).
 */
import { toMs, type Duration } from "./duration.js";
import { InvalidOptionError } from "./errors.js";
import { checkKnownKeys, checkObject } from "./validate.js";

type Depth = [never, 0, 1, 2, 3, 4, 5];

/**
 * The dotted paths into `T` that end at a string or a number (`"account.id"`), up to six levels
 * deep; any string when `T` is `any` or `unknown` (an actor without typed arguments).
 */
export type KeyPath<T, D extends number = 6> = unknown extends T
  ? string
  : [D] extends [never]
    ? never
    : T extends readonly unknown[]
      ? never
      : T extends object
        ? {
            [K in keyof T & string]-?: NonNullable<T[K]> extends string | number
              ? K
              : NonNullable<T[K]> extends object
                ? `${K}.${KeyPath<NonNullable<T[K]>, Depth[D]>}`
                : never;
          }[keyof T & string]
        : never;

/** At most `limit` runs at once across every worker (per value of `key` when given). */
export interface ConcurrencyLimit<TArgs = any> {
  readonly limit: number;
  /** A dotted path into the actor's arguments ending at a string or a number. */
  readonly key?: KeyPath<TArgs>;
}

/** At most `limit` starts in any window of `per` across every worker (per value of `key`). */
export interface RateLimit<TArgs = any> {
  readonly limit: number;
  readonly per: Duration;
  /** A dotted path into the actor's arguments ending at a string or a number. */
  readonly key?: KeyPath<TArgs>;
}

/**
 * Limits of one actor (a topic of a queue) that hold across every consumer of the queue, as a
 * worker declares them (`declareLimits`). A `key` is a dotted path into the message's payload
 * (its JSON arguments) ending at a string or a number: the limit then holds per value of that
 * key, and keys that have work are served in turn (round robin), so a key with a big backlog
 * does not hold back the others. A message whose payload has no string or number at the path
 * counts under the key `""`.
 */
export interface TopicLimits {
  readonly concurrency?: { readonly limit: number; readonly key?: string };
  readonly rateLimit?: { readonly limit: number; readonly perMs: number; readonly key?: string };
}

const SEGMENT = /^[A-Za-z_$][\w$-]*$/;

function checkKey(option: string, key: unknown): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== "string" || !key.split(".").every((part) => SEGMENT.test(part))) {
    throw new InvalidOptionError(
      `${option}.key`,
      `expected a dotted path into the arguments such as "account.id", got ${JSON.stringify(key)}`,
    );
  }
  return key;
}

function checkLimit(option: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw new InvalidOptionError(
      `${option}.limit`,
      `expected a whole number from 1 to 1000000, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Checks an actor's `concurrency` and `rateLimit` options; `undefined` when it has neither.
 * `concurrency` may be a number (per actor) or `{ limit, key }`.
 */
export function topicLimits(
  concurrency: unknown,
  rateLimit: unknown,
): TopicLimits | undefined {
  let c: TopicLimits["concurrency"];
  let r: TopicLimits["rateLimit"];
  if (typeof concurrency === "number") {
    c = { limit: checkLimit("concurrency", concurrency) };
  } else if (concurrency !== undefined) {
    const o = checkObject("concurrency", concurrency);
    checkKnownKeys("concurrency", o, ["limit", "key"]);
    const key = checkKey("concurrency", o.key);
    c = { limit: checkLimit("concurrency", o.limit), ...(key === undefined ? {} : { key }) };
  }
  if (rateLimit !== undefined) {
    const o = checkObject("rateLimit", rateLimit);
    checkKnownKeys("rateLimit", o, ["limit", "per", "key"]);
    const perMs = toMs(o.per as Duration, "rateLimit.per");
    if (perMs < 1) throw new InvalidOptionError("rateLimit.per", "expected at least 1 ms");
    const key = checkKey("rateLimit", o.key);
    r = { limit: checkLimit("rateLimit", o.limit), perMs, ...(key === undefined ? {} : { key }) };
  }
  if (!c && !r) return undefined;
  return { ...(c ? { concurrency: c } : {}), ...(r ? { rateLimit: r } : {}) };
}

/** Same limits (the last declaration wins; this tells whether it changes anything). */
export function sameLimits(a: TopicLimits | undefined, b: TopicLimits | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * The key value of a message for a key path: the string or number at `path` in its JSON
 * payload (a number as its JSON text), or `""` when there is none (no payload, not JSON, a
 * missing field, another type).
 */
export function keyOf(payload: string | undefined, path: string): string {
  if (payload === undefined) return "";
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return "";
  }
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return "";
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return JSON.stringify(value);
  return "";
}

/**
 * The window a rate limit is counted over: `perMs` plus a grace of a tenth of it, at most 100 ms,
 * so that the starts as workers see them (a few ms after their leases) keep within the limit too.
 * The Redis scripts count the same (limits.lua, `rate_window`).
 */
export function rateWindowMs(perMs: number): number {
  return perMs + Math.min(100, Math.floor(perMs / 10));
}

/**
 * The checks and conversions of `Job`'s options (./job.ts) that need nothing of the class: JSON
 * arguments, headers, times, result time to live, the debounce combinations.
 */
import { toMs, type Duration } from "../core/duration.js";
import { InvalidOptionError } from "../core/errors.js";
import { checkObject } from "../core/validate.js";

const ONE_DAY = 86_400_000;

/** The fields of a job that decide whether its debounce can be combined with the rest. */
export interface DebounceFields {
  readonly debounceMs: number | undefined;
  readonly id: string | undefined;
  readonly cron: string | undefined;
  readonly recurring: boolean;
  readonly deferUntil: number | undefined;
  readonly deferByMs: number | undefined;
  readonly dedupeMs: number | undefined;
}

export function encodeArgs(args: unknown): string | undefined {
  if (args === undefined) return undefined;
  try {
    const text = JSON.stringify(args);
    if (text === undefined) throw new Error("not a JSON value");
    return text;
  } catch (error) {
    throw new InvalidOptionError("args", `must be a JSON value: ${(error as Error).message}`);
  }
}

export function checkHeaders(
  value: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  const headers = checkObject("headers", value);
  for (const [key, v] of Object.entries(headers)) {
    if (typeof v !== "string")
      throw new InvalidOptionError("headers", `"${key}" must be a string, got ${typeof v}`);
  }
  return Object.keys(headers).length === 0 ? undefined : Object.freeze({ ...value });
}

export function toEpochMs(value: Date | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== "number" || !Number.isFinite(ms)) {
    throw new InvalidOptionError("deferUntil", "expected a Date or epoch milliseconds");
  }
  return ms;
}

export function resultTtl(value: boolean | Duration | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return ONE_DAY;
  const ms = toMs(value, "storeResult");
  if (ms === 0)
    throw new InvalidOptionError("storeResult", "time to live must be greater than zero");
  return ms;
}

/** A debounced job needs an id and cannot also be periodic, deferred or deduped. */
export function checkDebounce(job: DebounceFields): void {
  const why =
    job.debounceMs === 0
      ? "must be greater than zero"
      : job.id === undefined
        ? "needs an id: enqueues of that id are collapsed into one run"
        : job.cron !== undefined || job.recurring
          ? "cannot be combined with a periodic job"
          : job.deferUntil !== undefined || job.deferByMs !== undefined
            ? "sets the start itself: it cannot be combined with deferUntil or deferBy"
            : job.dedupeMs !== undefined
              ? "cannot be combined with dedupe: choose one"
              : undefined;
  if (why !== undefined) throw new InvalidOptionError("debounce", why);
}

import { toMs, type Duration } from "../core/duration.js";
import { InvalidOptionError } from "../core/errors.js";

/** Given the retry number (1 for the first retry), returns the delay before it in ms. */
export type RetryPolicy = (retryNumber: number) => number;

export interface DefaultRetryPolicyOptions {
  /** @defaultValue 10 s */
  readonly minBackoff?: Duration;
  /** @defaultValue 1 day */
  readonly maxBackoff?: Duration;
  /** @defaultValue 5 s */
  readonly multiplier?: Duration;
  /** @defaultValue 15 */
  readonly maxExponent?: number;
}

/**
 * repid's exponential policy:
 * `delay = max(minBackoff, min(multiplier * 2 ** min(n, maxExponent), maxBackoff))`.
 * @example router.actor({ retryPolicy: defaultRetryPolicyFactory({ minBackoff: "1m" }) }, fn)
 */
export function defaultRetryPolicyFactory(options: DefaultRetryPolicyOptions = {}): RetryPolicy {
  const minBackoff = toMs(options.minBackoff ?? 10_000, "minBackoff");
  const maxBackoff = toMs(options.maxBackoff ?? 86_400_000, "maxBackoff");
  const multiplier = toMs(options.multiplier ?? 5_000, "multiplier");
  const maxExponent = options.maxExponent ?? 15;
  if (!Number.isInteger(maxExponent) || maxExponent < 0) {
    throw new InvalidOptionError("maxExponent", "expected a non-negative integer");
  }
  if (minBackoff > maxBackoff) {
    throw new InvalidOptionError("minBackoff", "must not exceed maxBackoff");
  }
  return (retryNumber: number) =>
    Math.max(
      minBackoff,
      Math.min(multiplier * 2 ** Math.min(retryNumber, maxExponent), maxBackoff),
    );
}

/** The policy actors use unless they set their own. */
export const defaultRetryPolicy: RetryPolicy = defaultRetryPolicyFactory();

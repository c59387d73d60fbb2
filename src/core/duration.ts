import { InvalidDurationError } from "./errors.js";

/**
 * Milliseconds, or a string of up to three number-and-unit parts: `"500ms"`, `"5s"`, `"2m"`,
 * `"2h"`, `"1d"`, `"1h30m"`, `"1d2h30m"`. The type checks the form, so `"5 seconds"` does not
 * compile; a duration read from configuration is a `string` and is checked by `toMs` (or cast).
 */
export type Duration = number | DurationString;

/** Units of a duration string: milliseconds, seconds, minutes, hours, days. */
export type DurationUnit = "ms" | "s" | "m" | "h" | "d";

/** A duration written as text, such as `"5s"` or `"1h30m"`. */
export type DurationString =
  | `${number}${DurationUnit}`
  | `${number}${DurationUnit}${number}${DurationUnit}`
  | `${number}${DurationUnit}${number}${DurationUnit}${number}${DurationUnit}`;

const UNIT_MS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/y;

/**
 * Converts a duration to whole milliseconds.
 * @throws InvalidDurationError for negative, non-finite or unparseable input.
 * @example toMs("1h30m") // 5_400_000
 */
export function toMs(input: unknown, option?: string): number {
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) throw new InvalidDurationError(input, option);
    return Math.round(input);
  }
  if (typeof input !== "string") throw new InvalidDurationError(input, option);
  const text = input.trim();
  if (text === "") throw new InvalidDurationError(input, option);
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text));
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) throw new InvalidDurationError(input, option);
    total += Number(m[1]) * UNIT_MS[m[2] as DurationUnit];
    while (text[PART.lastIndex] === " ") PART.lastIndex++;
  }
  return Math.round(total);
}

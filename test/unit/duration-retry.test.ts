import { describe, expect, it } from "vitest";
import {
  InvalidDurationError,
  InvalidOptionError,
  defaultRetryPolicy,
  defaultRetryPolicyFactory,
  toMs,
} from "../../src/index.js";

describe("durations", () => {
  it.each([
    [250, 250],
    ["500ms", 500],
    ["5s", 5000],
    ["2m", 120_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["42", 42],
  ])("%s is %d ms", (input, ms) => {
    expect(toMs(input)).toBe(ms);
  });

  it.each([
    ["5 parsecs"],
    [""],
    ["s"],
    ["-5s"],
    [-1],
    [Number.NaN],
    [Infinity],
    [null],
    [{}],
    ["5s junk"],
  ])("%s is an InvalidDurationError", (input) => {
    expect(() => toMs(input)).toThrow(InvalidDurationError);
  });
});

describe("retry policies", () => {
  it("follows repid's default formula: max(10 s, min(5 s * 2^min(n, 15), 1 day))", () => {
    expect(defaultRetryPolicy(1)).toBe(10_000);
    expect(defaultRetryPolicy(2)).toBe(20_000);
    expect(defaultRetryPolicy(3)).toBe(40_000);
    expect(defaultRetryPolicy(14)).toBe(81_920_000);
    expect(defaultRetryPolicy(15)).toBe(86_400_000);
    expect(defaultRetryPolicy(40)).toBe(86_400_000);
  });

  it("takes its parameters from the factory, durations included", () => {
    const policy = defaultRetryPolicyFactory({
      minBackoff: "1m",
      maxBackoff: 86_400_000,
      multiplier: "5s",
      maxExponent: 3,
    });
    expect(policy(1)).toBe(60_000);
    expect(policy(4)).toBe(60_000);
    const fast = defaultRetryPolicyFactory({
      minBackoff: 1,
      maxBackoff: 1000,
      multiplier: 10,
      maxExponent: 15,
    });
    expect([fast(1), fast(2), fast(6), fast(7)]).toEqual([20, 40, 640, 1000]);
  });

  it("rejects impossible parameters", () => {
    expect(() => defaultRetryPolicyFactory({ maxExponent: -1 })).toThrow(InvalidOptionError);
    expect(() => defaultRetryPolicyFactory({ minBackoff: "2d" })).toThrow(InvalidOptionError);
    expect(() => defaultRetryPolicyFactory({ multiplier: "soon" as never })).toThrow(
      InvalidDurationError,
    );
  });
});

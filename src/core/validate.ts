import { InvalidOptionError } from "./errors.js";

const NAME = /^[A-Za-z0-9_.:\-]+$/;

/** Queue names travel into broker keys: letters, digits, `_ . : -` only. */
export function checkQueueName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new InvalidOptionError(
      "queue",
      `expected a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  if (!NAME.test(name) || name.length > 200) {
    throw new InvalidOptionError(
      "queue",
      `"${name}" may only contain letters, digits and _ . : - (at most 200)`,
    );
  }
  return name;
}

export function checkNonEmptyString(option: string, value: unknown): string {
  if (typeof value !== "string" || value.trim().length === 0) {
    throw new InvalidOptionError(
      option,
      `expected a non-empty string, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function checkNonNegativeInteger(option: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(
      option,
      `expected a non-negative integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function checkPositiveInteger(option: string, value: unknown): number {
  if (typeof value !== "number" || !(Number.isInteger(value) || value === Infinity) || value < 1) {
    throw new InvalidOptionError(
      option,
      `expected a positive integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function checkObject(option: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidOptionError(
      option,
      `expected an options object, got ${JSON.stringify(value)}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Rejects option keys the caller misspelt, so a typo never silently falls back to a default. */
export function checkKnownKeys(
  what: string,
  value: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(key, `unknown option for ${what} (known: ${known.join(", ")})`);
    }
  }
}

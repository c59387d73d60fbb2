import { ts } from "ts-morph";
import { toMs } from "repid";
import type { ActorLimits, ConcurrencyOption, RateLimitOption } from "../model.js";
import { errorAt, locate } from "./location.js";
import { keyPathProblem } from "./key-path.js";
import { literalOf, literalValue, skipParens, type OptionValue } from "./option-literals.js";

/** The highest `limit` repid accepts (its runtime check of `concurrency` and `rateLimit`). */
const MAX_LIMIT = 1_000_000;

/** What reading a limit needs: the checker, the root for locations, the arguments' type. */
export interface LimitContext {
  readonly checker: ts.TypeChecker;
  readonly root: string;
  /** The type of the actor's arguments; `undefined` when it takes none. */
  readonly args: ts.Type | undefined;
}

/**
 * The `concurrency` and `rateLimit` options of an actor, read statically: `concurrency` a number
 * or `{ limit, key }`, `rateLimit` `{ limit, per, key }`, each an object literal of literals.
 * A `key` must be a key path into the arguments ending at a string or a number. Throws a
 * `CodegenError` at the first value that is not.
 */
export function readLimits(
  options: ReadonlyMap<string, OptionValue>,
  ctx: LimitContext,
): ActorLimits {
  const concurrency = options.get("concurrency");
  const rateLimit = options.get("rateLimit");
  return {
    ...(concurrency ? { concurrency: readConcurrency(concurrency, ctx) } : {}),
    ...(rateLimit ? { rateLimit: readRateLimit(rateLimit, ctx) } : {}),
  };
}

function readConcurrency(option: OptionValue, ctx: LimitContext): ConcurrencyOption {
  if (typeof option.value === "number") return checkLimit(option);
  const fields = readFields(option, ctx, ["limit", "key"], "a number literal or an object literal");
  const key = fields.get("key");
  return { limit: checkLimit(required(fields, "limit", option)), ...readKey(key, ctx) };
}

function readRateLimit(option: OptionValue, ctx: LimitContext): RateLimitOption {
  const fields = readFields(option, ctx, ["limit", "per", "key"], "an object literal");
  const limit = checkLimit(required(fields, "limit", option));
  const per = required(fields, "per", option);
  const perValue = literalOf(per, "number", "string");
  let ms: number;
  try {
    ms = toMs(perValue);
  } catch {
    throw errorAt(
      per.location,
      `actor option "${per.key}" must be a duration (milliseconds, or a string such as "1m" or "1h30m"), not ${JSON.stringify(perValue)}`,
    );
  }
  if (ms < 1)
    throw errorAt(per.location, `actor option "${per.key}" must be at least 1 ms, not ${perValue}`);
  return { limit, per: perValue, ...readKey(fields.get("key"), ctx) };
}

/** The properties of an option's object literal, each with the literal it holds. */
function readFields(
  option: OptionValue,
  ctx: LimitContext,
  known: readonly string[],
  expected: string,
): Map<string, OptionValue> {
  const inner = skipParens(option.node);
  if (!ts.isObjectLiteralExpression(inner)) {
    throw errorAt(
      option.location,
      `actor option "${option.key}" must be ${expected} so repid-gen can read it`,
    );
  }
  const fields = new Map<string, OptionValue>();
  for (const prop of inner.properties) {
    const name =
      (ts.isPropertyAssignment(prop) || ts.isShorthandPropertyAssignment(prop)) &&
      (ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name))
        ? prop.name.text
        : undefined;
    if (name === undefined) {
      throw errorAt(
        locate(ctx.root, prop),
        `actor option "${option.key}" must list plain properties (${known.join(", ")}), without spreads, methods or computed names`,
      );
    }
    if (!known.includes(name)) {
      throw errorAt(
        locate(ctx.root, prop),
        `actor option "${option.key}" has no property "${name}" (it takes ${known.join(", ")})`,
      );
    }
    const node = ts.isPropertyAssignment(prop) ? prop.initializer : (prop.name as ts.Identifier);
    fields.set(name, {
      key: `${option.key}.${name}`,
      value: literalValue(ctx.checker.getTypeAtLocation(node)),
      location: locate(ctx.root, node),
      node,
    });
  }
  return fields;
}

function required(
  fields: ReadonlyMap<string, OptionValue>,
  name: string,
  option: OptionValue,
): OptionValue {
  const field = fields.get(name);
  if (!field) throw errorAt(option.location, `actor option "${option.key}" needs "${name}"`);
  return field;
}

function checkLimit(option: OptionValue): number {
  const value = literalOf(option, "number");
  if (!Number.isInteger(value) || value < 1 || value > MAX_LIMIT) {
    throw errorAt(
      option.location,
      `actor option "${option.key}" must be a whole number from 1 to ${MAX_LIMIT}, not ${value}`,
    );
  }
  return value;
}

function readKey(option: OptionValue | undefined, ctx: LimitContext): { key?: string } {
  if (!option) return {};
  const key = literalOf(option, "string");
  const problem = keyPathProblem(ctx.checker, ctx.args, key);
  if (problem !== undefined)
    throw errorAt(option.location, `${option.key} ${JSON.stringify(key)}: ${problem}`);
  return { key };
}

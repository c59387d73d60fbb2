import { ts } from "ts-morph";
import type { SourceLocation } from "../model.js";
import { errorAt } from "./location.js";

/** A value repid-gen can read from an actor's options without running them. */
export type Literal = string | number | boolean;

/** One property of an actor's options object literal (or of an option's own object literal). */
export interface OptionValue {
  /** The literal its type holds, when it is one. */
  readonly value: Literal | undefined;
  readonly location: SourceLocation;
  /** The option's name as messages show it (`"queue"`, `"rateLimit.per"`). */
  readonly key: string;
  readonly node: ts.Expression;
}

/** The literal a type holds: a string, number or boolean literal type, else `undefined`. */
export function literalValue(type: ts.Type): Literal | undefined {
  if (type.isStringLiteral() || type.isNumberLiteral()) return type.value;
  if (type.flags & ts.TypeFlags.BooleanLiteral)
    return (type as { intrinsicName?: string }).intrinsicName === "true";
  return undefined;
}

/** The option's literal, when it is one of `kinds`; a `CodegenError` at the option otherwise. */
export function literalOf<K extends "string" | "number" | "boolean">(
  option: OptionValue,
  ...kinds: K[]
): K extends "string" ? string : K extends "number" ? number : boolean;
export function literalOf(option: OptionValue, ...kinds: string[]): Literal {
  const { value } = option;
  if (value === undefined || !kinds.includes(typeof value)) {
    throw errorAt(
      option.location,
      `actor option "${option.key}" must be a ${kinds.join(" or ")} literal (or a constant of one) so repid-gen can read it`,
    );
  }
  return value;
}

/** The expression inside parentheses, `as` and `satisfies`. */
export function skipParens(node: ts.Expression): ts.Expression {
  let n = node;
  while (ts.isParenthesizedExpression(n) || ts.isAsExpression(n) || ts.isSatisfiesExpression(n))
    n = n.expression;
  return n;
}

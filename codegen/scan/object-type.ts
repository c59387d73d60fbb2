import { ts } from "ts-morph";
import type { KeyPattern, PropertyNode, TypeNode } from "../model.js";
import type { ConvertContext, ConvertSite, Fail } from "./convert-context.js";
import { docText } from "./doc-text.js";
import { withoutUndefined } from "./type-order.js";

/** `ts.getCheckFlags` is internal to TypeScript; `Readonly` marks mapped readonly properties. */
const getCheckFlags = (ts as unknown as { getCheckFlags(s: ts.Symbol): number }).getCheckFlags;
const CHECK_READONLY = 8;

const F = ts.TypeFlags;

/** A `#private` class member: its escaped name is `__#…`, which no string key can spell. */
export function isPrivateName(symbol: ts.Symbol): boolean {
  return (symbol.escapedName as string).startsWith("__#");
}

/** A property keyed by a symbol (`[Symbol.iterator]`, a unique symbol): escaped as `__@…`. */
export function isSymbolKeyed(symbol: ts.Symbol): boolean {
  return (symbol.escapedName as string).startsWith("__@");
}

/**
 * An object type: its data properties, and its index signatures. Methods, symbol keys and
 * non-JSON values are errors at their own place; private members are left out.
 */
export function convertObject(
  ctx: ConvertContext,
  type: ts.Type,
  site: ConvertSite,
  path: string,
  fail: Fail,
): TypeNode {
  const checker = ctx.checker;
  const isClass = (type.getSymbol()?.flags ?? 0) & ts.SymbolFlags.Class;
  const properties: PropertyNode[] = [];
  for (const prop of checker.getPropertiesOfType(type)) {
    const name = prop.getName();
    const declaration = prop.valueDeclaration;
    // Private members (TypeScript's and #private) are not part of what is sent. A `#private`
    // name is escaped as `__#…`, a spelling no string key has (TypeScript escapes a key `__x`
    // as `___x`): a key written `"#text"` is data.
    if (isPrivateName(prop)) continue;
    if (
      declaration &&
      ts.getCombinedModifierFlags(declaration) &
        (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)
    )
      continue;
    const inner = ctx.siteOf(declaration, site);
    const where = `${path}.${name}`;
    if (isSymbolKeyed(prop)) {
      ctx.report(
        inner.location,
        `actor "${site.actor}": ${where} is a symbol-keyed property, which is not a JSON value`,
      );
      continue;
    }
    if (prop.flags & (ts.SymbolFlags.Method | ts.SymbolFlags.Accessor) && isClass) {
      return fail(
        `is an instance of class \`${type.getSymbol()!.getName()}\`, whose methods do not survive JSON`,
      );
    }
    if (prop.flags & ts.SymbolFlags.Method) {
      ctx.report(
        inner.location,
        `actor "${site.actor}": ${where} is a method, which cannot be sent in a message`,
      );
      continue;
    }
    const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
    let node = ctx.convert(checker.getTypeOfSymbol(prop), inner, where);
    if (optional) node = withoutUndefined(node);
    const readonly =
      (getCheckFlags(prop) & CHECK_READONLY) !== 0 ||
      (declaration !== undefined &&
        (ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Readonly) !== 0);
    const doc = docText(prop, checker);
    properties.push({ name, type: node, optional, readonly, ...(doc ? { doc } : {}) });
  }
  const { index, patterns } = indexSignatures(ctx, type, site, path, fail);
  if (properties.length === 0 && index && patterns.length === 0)
    return { kind: "record", value: index };
  return {
    kind: "object",
    properties,
    ...(index ? { index } : {}),
    ...(patterns.length > 0 ? { patterns } : {}),
  };
}

/**
 * The index signatures of an object type: a `string` one, and those keyed by a pattern
 * (`number`, template literals), kept as written so that keys outside them stay refused.
 * Symbol keys are not JSON: those signatures are left out.
 */
function indexSignatures(
  ctx: ConvertContext,
  type: ts.Type,
  site: ConvertSite,
  path: string,
  fail: Fail,
): { index: TypeNode | undefined; patterns: KeyPattern[] } {
  let index: TypeNode | undefined;
  const patterns: KeyPattern[] = [];
  for (const info of ctx.checker.getIndexInfosOfType(type)) {
    const keys = info.keyType.isUnion() ? info.keyType.types : [info.keyType];
    for (const keyType of keys) {
      if (keyType.flags & F.ESSymbolLike) continue;
      const keyText = ctx.checker.typeToString(keyType);
      const value = ctx.convert(info.type, site, `${path}[${keyText}]`);
      if (keyType.flags & F.String) index = value;
      else if (keyType.flags & F.Number) patterns.push({ key: { kind: "number" }, value });
      else if (keyType.flags & F.TemplateLiteral) {
        const key = ctx.template(keyType as ts.TemplateLiteralType, site, path, fail);
        patterns.push({ key, value });
      } else fail(`has an index signature keyed by \`${keyText}\`, which has no run-time check`);
    }
  }
  return { index, patterns };
}

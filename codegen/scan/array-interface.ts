import { ts } from "ts-morph";
import { objectFlags } from "./location.js";

/** An interface that is an array: its element type, and whether it is a `ReadonlyArray`. */
export interface ArrayInterface {
  readonly element: ts.Type;
  readonly readonly: boolean;
}

/**
 * An interface that only extends `Array<T>` or `ReadonlyArray<T>` (or another such interface)
 * and adds no member of its own is an array of `T`: the classic way to write a recursive JSON
 * array, `interface JsonArray extends Array<Json> {}` (and `JSONSchema7Array`). Anything else,
 * a class or an interface with members of its own, is `undefined`: an object.
 */
export function arrayInterface(
  type: ts.Type,
  checker: ts.TypeChecker,
  seen: ReadonlySet<ts.Type> = new Set(),
): ArrayInterface | undefined {
  const symbol = type.getSymbol();
  if (!symbol || !(symbol.flags & ts.SymbolFlags.Interface) || symbol.flags & ts.SymbolFlags.Class)
    return undefined;
  const declarations = symbol.declarations ?? [];
  if (
    declarations.length === 0 ||
    !declarations.every((d) => ts.isInterfaceDeclaration(d) && d.members.length === 0)
  )
    return undefined;
  const target =
    objectFlags(type) & ts.ObjectFlags.Reference ? (type as ts.TypeReference).target : type;
  if (seen.has(target)) return undefined;
  const bases = checker.getBaseTypes(target as ts.InterfaceType);
  if (bases.length === 0) return undefined;
  let readonly = true;
  for (const base of bases) {
    if (checker.isArrayType(base)) {
      if ((base as ts.TypeReference).target.symbol?.getName() !== "ReadonlyArray") readonly = false;
      continue;
    }
    const inner = arrayInterface(base, checker, new Set([...seen, target]));
    if (!inner) return undefined;
    if (!inner.readonly) readonly = false;
  }
  // Read on the type itself, so that a generic interface's element is instantiated.
  const element = type.getNumberIndexType();
  return element ? { element, readonly } : undefined;
}

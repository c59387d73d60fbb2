import { ts } from "ts-morph";
import type { SourceLocation } from "../model.js";
import { docText } from "./doc-text.js";
import { isDataInterface } from "./lib-data.js";
import { locate, objectFlags } from "./location.js";

/** What names a declared type: its name, doc, place, and the parts of its path. */
export interface NamedInfo {
  readonly name: string;
  readonly doc: string;
  readonly source: SourceLocation;
  readonly segments: readonly string[];
}

const F = ts.TypeFlags;

/** A name, doc and source for a type that gets its own declaration, or `undefined`. */
export function namedInfo(
  type: ts.Type,
  checker: ts.TypeChecker,
  root: string,
  fromLib: (symbol: ts.Symbol) => boolean,
): NamedInfo | undefined {
  const alias = type.aliasSymbol;
  if (alias && !fromLib(alias)) {
    return declarationInfo(alias, alias.getName(), type.aliasTypeArguments ?? [], checker, root);
  }
  const symbol = type.getSymbol();
  // A data-only interface of the standard library is copied like the user's own.
  if (!symbol || (fromLib(symbol) && !isDataInterface(type, checker))) return undefined;
  if (!(symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class))) return undefined;
  if (checker.isArrayType(type) || checker.isTupleType(type)) return undefined;
  let args: readonly ts.Type[] = [];
  if (objectFlags(type) & ts.ObjectFlags.Reference) {
    const ref = type as ts.TypeReference;
    const declared = (ref.target as ts.InterfaceType).typeParameters?.length ?? 0;
    args = checker.getTypeArguments(ref).slice(0, declared);
  }
  return declarationInfo(symbol, symbol.getName(), args, checker, root);
}

/** The name (with generic arguments), doc, place and path parts of a declaration. */
export function declarationInfo(
  symbol: ts.Symbol,
  base: string,
  args: readonly ts.Type[],
  checker: ts.TypeChecker,
  root: string,
): NamedInfo {
  const declaration = symbol.declarations?.[0];
  const doc = docText(symbol, checker);
  const name = base + args.map((a) => fragment(a, checker)).join("");
  const source = declaration ? locate(root, declaration) : { file: "", line: 0, column: 0 };
  const namespaces: string[] = [];
  for (let n = declaration?.parent; n; n = n.parent) {
    if (ts.isModuleDeclaration(n)) namespaces.unshift(n.name.text);
  }
  const segments = [...source.file.replace(/\.d\.ts$|\.[cm]?tsx?$/, "").split("/"), ...namespaces];
  return { name, doc, source, segments };
}

/** A readable name part for a generic argument: `Page<User>` becomes `PageUser`. */
function fragment(type: ts.Type, checker: ts.TypeChecker): string {
  const f = type.flags;
  if (f & F.String) return "String";
  if (f & F.Number) return "Number";
  if (f & F.Boolean) return "Boolean";
  if (f & F.StringLiteral) {
    const text = (type as ts.StringLiteralType).value.replace(/[^A-Za-z0-9]/g, "");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  if (checker.isArrayType(type)) {
    const [element] = checker.getTypeArguments(type as ts.TypeReference);
    return `${element ? fragment(element, checker) : ""}List`;
  }
  const symbol = type.aliasSymbol ?? type.getSymbol();
  if (symbol && /^[A-Za-z_$][\w$]*$/.test(symbol.getName())) {
    const n = symbol.getName();
    return n.charAt(0).toUpperCase() + n.slice(1);
  }
  return "T";
}

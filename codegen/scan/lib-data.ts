import { ts } from "ts-morph";

/**
 * True for an interface that holds only data: no methods, no call or construct signatures, no
 * symbol keys, and no value of the same name (`Date`, `Map` and `Error` are declared with a
 * constructor beside the interface: their values are class instances). Such an interface from
 * the standard library or @types/node (`Intl.DateTimeFormatOptions`, `path.ParsedPath`) is
 * copied into the generated module like a user's; others stay refused as not plain JSON.
 */
export function isDataInterface(type: ts.Type, checker: ts.TypeChecker): boolean {
  const symbol = type.getSymbol();
  if (!symbol || !(symbol.flags & ts.SymbolFlags.Interface)) return false;
  if (symbol.flags & ts.SymbolFlags.Value) return false;
  if (checker.isArrayLikeType(type)) return false;
  if (
    checker.getSignaturesOfType(type, ts.SignatureKind.Call).length > 0 ||
    checker.getSignaturesOfType(type, ts.SignatureKind.Construct).length > 0
  )
    return false;
  return checker
    .getPropertiesOfType(type)
    .every(
      (p) =>
        !(p.flags & (ts.SymbolFlags.Method | ts.SymbolFlags.Accessor)) &&
        !(p.escapedName as string).startsWith("__@"),
    );
}

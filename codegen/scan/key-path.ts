import { ts } from "ts-morph";

/**
 * Checks a limit's `key` (a dotted path into an actor's arguments) against the arguments' type,
 * the way repid's `KeyPath<TArgs>` type does, so that repid-gen refuses what the actor file's
 * compiler refuses and says why: each part must name a property of the object before it
 * (`null` and `undefined` aside, each member of a union of objects counts), no part may go into
 * an array, and the path must end at a string or a number.
 */

/** How deep `KeyPath` goes: it stops after this many parts. */
export const MAX_KEY_PARTS = 7;

/** Each part as the runtime accepts it (see `checkKey` of repid's limits). */
const PART = /^[A-Za-z_$][\w$-]*$/;

/** Why `path` is no key path into `args`, or `undefined` when it is one. */
export function keyPathProblem(
  checker: ts.TypeChecker,
  args: ts.Type | undefined,
  path: string,
): string | undefined {
  const parts = path.split(".");
  if (!parts.every((part) => PART.test(part)))
    return 'expected a dotted path of property names such as "account.id"';
  if (parts.length > MAX_KEY_PARTS)
    return `a key path has at most ${MAX_KEY_PARTS} parts (repid's KeyPath type stops there)`;
  if (args === undefined) return "the actor takes no arguments";
  if (args.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return undefined;
  const objects = objectMembers(checker, args);
  if (objects.length === 0) return `the arguments are ${describe(checker, args)}, not an object`;
  return new KeyPathWalk(checker, parts).from(objects, 0);
}

class KeyPathWalk {
  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly parts: readonly string[],
  ) {}

  /** Walks on from part `i`, with the object types (union members) holding it. */
  from(objects: readonly ts.Type[], i: number): string | undefined {
    const checker = this.checker;
    const part = this.parts[i]!;
    const found = objects.flatMap((o) => {
      const type = propertyType(checker, o, part);
      return type ? [type] : [];
    });
    if (found.length === 0) {
      const owner = i === 0 ? "the arguments have" : `${this.prefix(i - 1)} has`;
      const names = keyNames(objects);
      const they = i === 0 ? "they have" : "it has";
      return `${owner} no property "${part}" (${names.length ? `${they}: ${names.join(", ")}` : `${they} none`})`;
    }
    const here = this.prefix(i);
    if (i === this.parts.length - 1) {
      if (found.some((t) => isStringOrNumber(checker, t))) return undefined;
      return `${here} is ${describe(checker, found[0]!)}, not a string or a number`;
    }
    let first: string | undefined;
    for (const type of found) {
      const problem = this.into(type, here, i);
      if (problem === undefined) return undefined;
      first ??= problem;
    }
    return first;
  }

  /** Steps into the property `here` of type `type`, which must be an object. */
  private into(type: ts.Type, here: string, i: number): string | undefined {
    const checker = this.checker;
    if (type.flags & ts.TypeFlags.Any) return undefined;
    const members = nonNullMembers(checker, type);
    if (type.flags & ts.TypeFlags.Unknown || members.length === 0 || !members.every(isObject))
      return `${here} is ${describe(checker, type)}, not an object`;
    const objects = objectMembers(checker, type);
    if (objects.length === 0) {
      return members.some((m) => checker.isArrayLikeType(m))
        ? `${here} is ${describe(checker, type)}; a key path cannot go into an array`
        : `${here} is ${describe(checker, type)}, not a plain object`;
    }
    return this.from(objects, i + 1);
  }

  private prefix(i: number): string {
    return this.parts.slice(0, i + 1).join(".");
  }
}

/** The members of `type` once `null` and `undefined` are left out. */
function nonNullMembers(checker: ts.TypeChecker, type: ts.Type): ts.Type[] {
  const t = checker.getNonNullableType(type);
  if (t.flags & ts.TypeFlags.Never) return [];
  return t.isUnion() ? t.types : [t];
}

function isObject(type: ts.Type): boolean {
  return (
    (type.flags & (ts.TypeFlags.Object | ts.TypeFlags.NonPrimitive)) !== 0 ||
    (type.isIntersection() && type.types.every((m) => isObject(m)))
  );
}

/** The members of `type` a key path can step into: objects that are neither arrays nor functions. */
function objectMembers(checker: ts.TypeChecker, type: ts.Type): ts.Type[] {
  return nonNullMembers(checker, type).filter(
    (m) =>
      isObject(m) &&
      !checker.isArrayLikeType(m) &&
      m.getCallSignatures().length === 0 &&
      m.getConstructSignatures().length === 0,
  );
}

/** The type of property `name` of object type `o`, through a string index signature too. */
function propertyType(checker: ts.TypeChecker, o: ts.Type, name: string): ts.Type | undefined {
  const symbol = o.getProperty(name);
  if (symbol) return isPublic(symbol) ? checker.getTypeOfSymbol(symbol) : undefined;
  return o.getStringIndexType();
}

/** The names of the properties a key path can name, in declaration order. */
function keyNames(objects: readonly ts.Type[]): string[] {
  const names = objects.flatMap((o) =>
    o
      .getProperties()
      .filter(isPublic)
      .map((p) => p.name),
  );
  return [...new Set(names)].filter((name) => PART.test(name));
}

/** Not a private or protected class member: those are no keys, and no part of a message. */
function isPublic(symbol: ts.Symbol): boolean {
  const declaration = symbol.valueDeclaration;
  return !(
    declaration &&
    ts.getCombinedModifierFlags(declaration) &
      (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)
  );
}

/** A string or a number (`null` and `undefined` aside), as a key's value must be. */
function isStringOrNumber(checker: ts.TypeChecker, type: ts.Type): boolean {
  if (type.flags & ts.TypeFlags.Any) return true;
  const members = nonNullMembers(checker, type);
  const string = checker.getStringType();
  const number = checker.getNumberType();
  return (
    members.length > 0 &&
    members.every(
      (m) => checker.isTypeAssignableTo(m, string) || checker.isTypeAssignableTo(m, number),
    )
  );
}

/** A few words for a type, in messages. */
function describe(checker: ts.TypeChecker, type: ts.Type): string {
  if (type.flags & ts.TypeFlags.Unknown) return "`unknown`";
  const members = nonNullMembers(checker, type);
  const F = ts.TypeFlags;
  if (members.length > 0 && members.every((m) => m.flags & F.BooleanLike)) return "a boolean";
  if (members.length === 1) {
    const m = members[0]!;
    if (checker.isArrayLikeType(m)) return "an array";
    if (m.getCallSignatures().length > 0) return "a function";
    if (m.getSymbol()?.getName() === "Date") return "a Date";
    if (m.flags & F.StringLike) return "a string";
    if (m.flags & F.NumberLike) return "a number";
    if (m.flags & F.BigIntLike) return "a bigint";
    if (isObject(m)) return "an object";
  }
  return `\`${checker.typeToString(type)}\``;
}

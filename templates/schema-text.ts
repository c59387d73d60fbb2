import type { PropertyNode, TupleElement, TypeNode } from "../codegen/model.js";
import { acceptsUndefined, propertyKey, typeText, type TypeTextContext } from "./type-text.js";

/** How to print references to named schemas. */
export interface SchemaTextContext {
  /** The const holding a named type's schema. */
  readonly schemaName: (name: string) => string;
  /** True when the referenced schema is not defined yet here (recursion): wrap it in `z.lazy`. */
  readonly isLazy: (name: string) => boolean;
  /** The object body of a named type, when it is a plain object (to inline it in a union). */
  readonly objectOf: (name: string) => ObjectNode | undefined;
  /** The body of a named alias (to tell whether it may be a `Date`). */
  readonly typeOf: (name: string) => TypeNode | undefined;
  /** How type texts (brands, rest tuples) print references. */
  readonly types: Omit<TypeTextContext, "mode">;
  /**
   * Whether helpers that build a schema by hand are told its types, for the compile-time check
   * of what each schema infers (`verify`); otherwise the declared type of the const is enough.
   */
  readonly typed?: boolean;
}

type ObjectNode = Extract<TypeNode, { kind: "object" }>;

/** Names of the helpers a schema text may use, so the module defines only those it needs. */
export const HELPERS = {
  json: "jsonSchema",
  date: "dateSchema",
  restTuple: "restTuple",
  object: "objectSchema",
} as const;

/**
 * A key of an object literal in generated code. `__proto__: x` in an object literal sets the
 * prototype instead of a key: that one is written computed, `["__proto__"]: x`, a data key.
 */
export function literalKey(name: string): string {
  return name === "__proto__" ? `[${JSON.stringify(name)}]` : propertyKey(name);
}

/** The zod schema expression of a type. */
export function schemaText(type: TypeNode, ctx: SchemaTextContext): string {
  switch (type.kind) {
    case "string":
      return "z.string()";
    case "number":
      return "z.number()";
    case "boolean":
      return "z.boolean()";
    case "null":
      return "z.null()";
    case "undefined":
      return "z.undefined()";
    case "void":
      return "z.void()";
    case "unknown":
      return `${HELPERS.json}()`;
    case "any":
      return "z.any()";
    case "never":
      return "z.never()";
    case "date":
      return `${HELPERS.date}()`;
    case "literal":
      return `z.literal(${JSON.stringify(type.value)})`;
    case "enum-member":
      return `z.literal(${type.enumName}[${JSON.stringify(type.member)}])`;
    case "ref": {
      const name = ctx.schemaName(type.name);
      return ctx.isLazy(type.name) ? `z.lazy(() => ${name})` : name;
    }
    case "array": {
      const array = `z.array(${elementText(type.element, ctx)})`;
      return type.readonly ? `${array}.readonly()` : array;
    }
    case "tuple":
      return tupleText(type, ctx);
    case "template":
      return `z.templateLiteral([${type.parts.map((p) => (typeof p === "string" ? JSON.stringify(p) : templatePart(p, ctx))).join(", ")}])`;
    case "branded":
      // The base type is checked at run time; the brand exists only for the compiler.
      return `${schemaText(type.base, ctx)}.pipe(z.custom<${typeText(type, { ...ctx.types, mode: "output" })}>())`;
    case "object":
      return objectText(type, ctx, "z.object");
    case "record":
      return `z.record(z.string(), ${indexValueText(type.value, ctx)})`;
    case "union":
      return unionText(type.members, ctx);
    case "intersection":
      return type.members
        .map((m) => schemaText(m, ctx))
        .reduce((acc, next) => `z.intersection(${acc}, ${next})`);
  }
}

/**
 * An array or tuple element. JSON writes `undefined` in an array as `null`: where the type
 * allows `undefined` (and not `null`, which the scanner refuses alongside it), the worker reads
 * `null` back as `undefined`, so the actor gets the array the producer sent.
 */
function elementText(type: TypeNode, ctx: SchemaTextContext): string {
  if (!acceptsUndefined(type) || type.kind === "unknown" || type.kind === "any")
    return schemaText(type, ctx);
  if (type.kind === "union" && type.members.some((m) => m.kind === "null"))
    return schemaText(type, ctx);
  // Not `.optional()`, which would make a tuple element optional: `[T, U | undefined]` keeps U.
  const defined = withoutUndefined(type);
  const members = defined.kind === "never" ? [] : [schemaText(defined, ctx)];
  return `z.union([${[...members, "z.undefined()", "z.null().transform(() => undefined)"].join(", ")}])`;
}

function tupleText(type: Extract<TypeNode, { kind: "tuple" }>, ctx: SchemaTextContext): string {
  const restAt = type.elements.findIndex((e) => e.kind === "rest");
  const element = (e: TupleElement) =>
    e.kind === "optional"
      ? `${elementText({ kind: "union", members: [e.type, { kind: "undefined" }] }, ctx)}.optional()`
      : elementText(e.type, ctx);
  let text: string;
  if (restAt === -1 || restAt === type.elements.length - 1) {
    const fixed = type.elements.filter((e) => e.kind !== "rest").map(element);
    const rest = restAt === -1 ? "" : `, ${elementText(type.elements[restAt]!.type, ctx)}`;
    text = `z.tuple([${fixed.join(", ")}]${rest})`;
  } else {
    // zod tuples take a rest only at the end: `[...A[], B]` is checked by a small helper.
    const head = type.elements.slice(0, restAt).map(element);
    const tail = type.elements.slice(restAt + 1).map(element);
    const rest = elementText(type.elements[restAt]!.type, ctx);
    const plain = { ...type, readonly: false };
    const output = typeText(plain, { ...ctx.types, mode: "output" });
    const input = typeText(plain, { ...ctx.types, mode: "input" });
    text = `${HELPERS.restTuple}<${output}, ${input}>([${head.join(", ")}], ${rest}, [${tail.join(", ")}])`;
  }
  return type.readonly ? `${text}.readonly()` : text;
}

function templatePart(type: TypeNode, ctx: SchemaTextContext): string {
  if (type.kind === "union" && type.members.every((m) => m.kind === "literal")) {
    return `z.literal([${type.members.map((m) => JSON.stringify((m as { value: unknown }).value)).join(", ")}])`;
  }
  return schemaText(type, ctx);
}

function propertyText(p: PropertyNode, ctx: SchemaTextContext): string {
  let value: string;
  if (p.optional) {
    value = `${schemaText(withoutUndefined(p.type), ctx)}.optional()`;
  } else if (acceptsUndefined(p.type) && p.type.kind !== "any") {
    // JSON drops a key whose value is undefined: the worker accepts the key missing, and the
    // identity transform keeps the key required in the inferred type, as the source says.
    const defined = withoutUndefined(p.type);
    const base = defined.kind === "never" ? "z.undefined()" : schemaText(defined, ctx);
    value = `${base}.optional().transform((v) => v)`;
  } else {
    value = schemaText(p.type, ctx);
  }
  return `${literalKey(p.name)}: ${value},`;
}

function objectText(type: ObjectNode, ctx: SchemaTextContext, factory: string): string {
  const shape = `{\n${type.properties.map((p) => propertyText(p, ctx)).join("\n")}\n}`;
  if (!isPlainObject(type)) {
    // zod's objects skip `__proto__`, read inherited keys from the prototype, and check other
    // keys against one catchall only.
    const indexes = [
      ...(type.index ? [["z.string()", indexValueText(type.index, ctx)]] : []),
      ...(type.patterns ?? []).map((p) => [
        keySchemaText(p.key, ctx),
        indexValueText(p.value, ctx),
      ]),
    ];
    const output = typeText(type, { ...ctx.types, mode: "output" });
    const input = typeText(type, { ...ctx.types, mode: "input" });
    const typeArgs = ctx.typed ? `<${output}, ${input}>` : "";
    return `${HELPERS.object}${typeArgs}(${shape}, [${indexes.map(([k, v]) => `[${k}, ${v}]`).join(", ")}])`;
  }
  const base = `${factory}(${shape})`;
  return type.index ? `${base}.catchall(${indexValueText(type.index, ctx)})` : base;
}

/**
 * The value of a record or an index signature. It may be `undefined` exactly where its type
 * allows it, as `Record<string, string | undefined>` always did, `Record<string, unknown>` too
 * (`unknown` holds `undefined`): the producer's compile-time type and its check agree, and JSON
 * leaves such a key out, so the worker sees the key missing, which reads `undefined` again.
 * A value type without `undefined` refuses it, at compile time and at run time alike.
 */
function indexValueText(type: TypeNode, ctx: SchemaTextContext): string {
  const schema = schemaText(type, ctx);
  return type.kind === "unknown" ? `${schema}.optional()` : schema;
}

/**
 * The keys every object inherits from `Object.prototype`. `z.object` skips `__proto__`, and
 * reads the others through the prototype when a value lacks them: an optional `toString` key
 * would refuse `{}`.
 */
const INHERITED_KEYS: ReadonlySet<string> = new Set([
  "__proto__",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "constructor",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "toString",
  "valueOf",
]);

/** True when `z.object` says all of an object type: no inherited key, no key pattern. */
function isPlainObject(type: ObjectNode): boolean {
  return !type.patterns && !type.properties.some((p) => INHERITED_KEYS.has(p.name));
}

/**
 * The schema of an index signature's keys. A numeric signature takes the keys TypeScript reads
 * as numbers: those a number writes back unchanged (`"1"`, `"-2.5"`; not `"01"` or `"1.0"`).
 */
function keySchemaText(key: TypeNode, ctx: SchemaTextContext): string {
  if (key.kind === "number")
    return "z.string().refine((key: string) => String(Number(key)) === key)";
  return schemaText(key, ctx);
}

function withoutUndefined(type: TypeNode): TypeNode {
  if (type.kind === "undefined" || type.kind === "void") return { kind: "never" };
  if (type.kind !== "union") return type;
  const members = type.members.filter((m) => m.kind !== "undefined" && m.kind !== "void");
  return members.length === 1 ? members[0]! : { kind: "union", members };
}

function unionText(members: readonly TypeNode[], ctx: SchemaTextContext): string {
  const hasUndefined = members.some((m) => m.kind === "undefined");
  const hasNull = members.some((m) => m.kind === "null");
  const rest = datesFirst(
    members.filter((m) => m.kind !== "undefined" && m.kind !== "null"),
    ctx,
  );
  if (rest.length === 0)
    return hasNull && hasUndefined ? "z.null().optional()" : hasNull ? "z.null()" : "z.undefined()";
  let text: string;
  if (rest.length === 1) {
    text = schemaText(rest[0]!, ctx);
  } else if (rest.every((m) => m.kind === "literal" && typeof m.value === "string")) {
    text = `z.enum([${rest.map((m) => JSON.stringify((m as { value: string }).value)).join(", ")}])`;
  } else {
    text =
      objectUnionText(rest, ctx) ?? `z.union([${rest.map((m) => schemaText(m, ctx)).join(", ")}])`;
  }
  if (hasNull) text += ".nullable()";
  if (hasUndefined) text += ".optional()";
  return text;
}

/**
 * A `Date` travels as an ISO string, which a string member would take as it is: members that
 * may be a `Date` are tried first, so that a Date a producer sends reaches the actor as a Date.
 * A string that reads as an ISO date-time becomes a Date too: JSON cannot tell them apart, and
 * the type says either may come. Other strings stay strings.
 */
function datesFirst(members: readonly TypeNode[], ctx: SchemaTextContext): TypeNode[] {
  const seen = new Set<string>();
  const mayBeDate = (t: TypeNode): boolean => {
    if (t.kind === "date") return true;
    if (t.kind === "union") return t.members.some(mayBeDate);
    if (t.kind !== "ref" || seen.has(t.name)) return false;
    seen.add(t.name);
    const body = ctx.typeOf(t.name);
    return body !== undefined && mayBeDate(body);
  };
  const dates = members.filter(mayBeDate);
  return [...dates, ...members.filter((m) => !dates.includes(m))];
}

/**
 * A union of two or more plain objects must never drop a field: zod takes the first member that
 * parses, and a plain object strips the keys it does not know. A discriminated union picks its
 * member by tag; otherwise each object is tried first as a strict object (exact keys), then, for
 * values with keys no member knows, as a plain one, members with more keys first.
 */
function objectUnionText(members: readonly TypeNode[], ctx: SchemaTextContext): string | undefined {
  const objects: ObjectNode[] = [];
  const others: TypeNode[] = [];
  for (const m of members) {
    const object = m.kind === "object" ? m : m.kind === "ref" ? ctx.objectOf(m.name) : undefined;
    if (object && !object.index && isPlainObject(object)) objects.push(object);
    else others.push(m);
  }
  if (objects.length < 2) return undefined;
  const other = datesFirst(others, ctx).map((m) => schemaText(m, ctx));
  const tag = discriminator(objects);
  if (tag !== undefined) {
    const du = `z.discriminatedUnion(${JSON.stringify(tag)}, [${objects.map((o) => objectText(o, ctx, "z.object")).join(", ")}])`;
    return other.length === 0 ? du : `z.union([${[du, ...other].join(", ")}])`;
  }
  const bySize = [...objects].sort((a, b) => b.properties.length - a.properties.length);
  const strict = bySize.map((o) => objectText(o, ctx, "z.strictObject"));
  const loose = bySize.map((o) => objectText(o, ctx, "z.object"));
  return `z.union([${[...strict, ...other, ...loose].join(", ")}])`;
}

/** A required property whose literal values tell every member apart, if there is one. */
function discriminator(objects: readonly ObjectNode[]): string | undefined {
  const literalsOf = (t: TypeNode): string[] | undefined => {
    if (t.kind === "literal") return [JSON.stringify(t.value)];
    if (t.kind === "enum-member") return [`${t.enumName}.${t.member}`];
    if (t.kind === "union") {
      const all = t.members.map(literalsOf);
      return all.every((a) => a !== undefined) ? all.flat() : undefined;
    }
    return undefined;
  };
  for (const candidate of objects[0]!.properties) {
    const seen = new Set<string>();
    const ok = objects.every((o) => {
      const p = o.properties.find((q) => q.name === candidate.name);
      const values = p && !p.optional ? literalsOf(p.type) : undefined;
      if (!values) return false;
      for (const v of values) {
        if (seen.has(v)) return false;
        seen.add(v);
      }
      return true;
    });
    if (ok) return candidate.name;
  }
  return undefined;
}

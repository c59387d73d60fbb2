/**
 * The wire shape of an actor's schema: its types with every name, doc comment, `readonly` and
 * brand taken out, named types inlined, object properties sorted by name and union members
 * sorted and deduplicated. Two sources whose messages look the same on the wire get the same
 * shape, whatever their formatting, ordering or type names; the fingerprint is its hash.
 *
 * Recursion: a named type that reaches itself is written once as `{ k: "mu", body }`, and each
 * reference back to it as `{ k: "rec", up }`, `up` counting enclosing `mu`s (0: the nearest).
 * Shapes are plain JSON: the generated registry carries them (its compat manifest), and
 * `repid-gen --compat` reads them back from a previous registry.
 */
import { createHash } from "node:crypto";
import type { ActorShape, NamedType, Shape, TypeNode } from "./model.js";

export type { ActorShape, Shape, ShapeItem, ShapeProp } from "./model.js";

/** The fingerprint of an actor's schema: 12 hex digits of the SHA-256 of its shapes. */
export function fingerprintOf(args: Shape | undefined, result: Shape): string {
  const text = JSON.stringify({ args: args ?? null, result });
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

/** Builds shapes of types that refer to the named types of one model. */
export class Shaper {
  readonly #named: ReadonlyMap<string, NamedType>;
  readonly #recursive = new Map<string, boolean>();

  constructor(types: readonly NamedType[]) {
    this.#named = new Map(types.map((t) => [t.name, t]));
  }

  /** The shape of `type`. */
  shape(type: TypeNode): Shape {
    return this.#shape(type, []);
  }

  #shape(type: TypeNode, stack: readonly string[]): Shape {
    const s = (t: TypeNode): Shape => this.#shape(t, stack);
    switch (type.kind) {
      case "string":
      case "number":
      case "boolean":
      case "null":
      case "undefined":
      case "unknown":
      case "any":
      case "never":
      case "date":
        return { k: type.kind };
      case "void":
        return { k: "undefined" };
      case "literal":
        return { k: "literal", v: type.value };
      case "enum-member": {
        const e = this.#named.get(type.enumName);
        const member =
          e?.kind === "enum" ? e.members.find((m) => m.name === type.member) : undefined;
        return member ? { k: "literal", v: member.value } : { k: "unknown" };
      }
      case "array":
        return { k: "array", of: s(type.element) };
      case "tuple":
        return { k: "tuple", items: type.elements.map((e) => ({ kind: e.kind, type: s(e.type) })) };
      case "template":
        return { k: "template", parts: type.parts.map((p) => (typeof p === "string" ? p : s(p))) };
      case "branded":
        // The brand exists only for the compiler: the wire carries the base value.
        return s(type.base);
      case "object": {
        const props = [...type.properties]
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .map((p) => ({ name: p.name, optional: p.optional, type: s(p.type) }));
        // Absent fields stay absent, so a shape without patterns keeps its fingerprint.
        return {
          k: "object",
          props,
          ...(type.index ? { index: s(type.index) } : {}),
          ...(type.patterns
            ? { patterns: type.patterns.map((p) => ({ key: s(p.key), of: s(p.value) })) }
            : {}),
        };
      }
      case "record":
        return { k: "record", of: s(type.value) };
      case "union":
        return union(type.members.map(s));
      case "intersection":
        return { k: "intersection", of: sortShapes(type.members.map(s)) };
      case "ref":
        return this.#ref(type.name, stack);
    }
  }

  #ref(name: string, stack: readonly string[]): Shape {
    const at = stack.lastIndexOf(name);
    if (at >= 0) return { k: "rec", up: stack.length - 1 - at };
    const named = this.#named.get(name);
    if (!named) return { k: "unknown" };
    if (named.kind === "enum")
      return union(named.members.map((m) => ({ k: "literal", v: m.value })));
    if (!this.#isRecursive(name)) return this.#shape(named.type, stack);
    return { k: "mu", body: this.#shape(named.type, [...stack, name]) };
  }

  /** True when the named type reaches itself through references. */
  #isRecursive(name: string): boolean {
    const known = this.#recursive.get(name);
    if (known !== undefined) return known;
    const seen = new Set<string>();
    const reaches = (type: TypeNode): boolean => {
      let found = false;
      visitRefs(type, (ref) => {
        if (found) return;
        if (ref === name) found = true;
        else if (!seen.has(ref)) {
          seen.add(ref);
          const t = this.#named.get(ref);
          if (t?.kind === "alias" && reaches(t.type)) found = true;
        }
      });
      return found;
    };
    const named = this.#named.get(name);
    const result = named?.kind === "alias" && reaches(named.type);
    this.#recursive.set(name, result);
    return result;
  }
}

function visitRefs(type: TypeNode, visit: (name: string) => void): void {
  switch (type.kind) {
    case "ref":
      return visit(type.name);
    case "array":
      return visitRefs(type.element, visit);
    case "tuple":
      return type.elements.forEach((e) => visitRefs(e.type, visit));
    case "template":
      return type.parts.forEach((p) => (typeof p === "string" ? undefined : visitRefs(p, visit)));
    case "branded":
      return visitRefs(type.base, visit);
    case "object":
      type.properties.forEach((p) => visitRefs(p.type, visit));
      if (type.index) visitRefs(type.index, visit);
      for (const p of type.patterns ?? []) visitRefs(p.value, visit);
      return;
    case "record":
      return visitRefs(type.value, visit);
    case "union":
    case "intersection":
      return type.members.forEach((m) => visitRefs(m, visit));
    default:
      return;
  }
}

/** A union of shapes: nested unions flattened, duplicates dropped, members sorted. */
export function union(members: readonly Shape[]): Shape {
  const flat = members.flatMap((m) => (m.k === "union" ? m.of : [m]));
  const unique = sortShapes(flat);
  if (unique.length === 1) return unique[0]!;
  // `boolean` is the two literals: keep one spelling.
  const hasTrue = unique.some((m) => m.k === "literal" && m.v === true);
  const hasFalse = unique.some((m) => m.k === "literal" && m.v === false);
  if (hasTrue && hasFalse) {
    return union([
      ...unique.filter((m) => !(m.k === "literal" && typeof m.v === "boolean")),
      { k: "boolean" },
    ]);
  }
  return { k: "union", of: unique };
}

function sortShapes(shapes: readonly Shape[]): Shape[] {
  const byKey = new Map(shapes.map((s) => [JSON.stringify(s), s]));
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** Short text of a shape for reports: `string`, `"a" | "b"`, `{ to, cc? }`, `number[]`. */
export function shapeText(shape: Shape, depth = 0): string {
  switch (shape.k) {
    case "literal":
      return JSON.stringify(shape.v);
    case "array":
      return `${wrap(shape.of, depth)}[]`;
    case "tuple":
      return `[${shape.items.map((i) => (i.kind === "rest" ? `...${wrap(i.type, depth)}[]` : `${shapeText(i.type, depth + 1)}${i.kind === "optional" ? "?" : ""}`)).join(", ")}]`;
    case "template":
      return `\`${shape.parts.map((p) => (typeof p === "string" ? p : `\${${shapeText(p, depth + 1)}}`)).join("")}\``;
    case "object":
      if (depth > 1) return "{ … }";
      return `{ ${[...shape.props.map((p) => `${p.name}${p.optional ? "?" : ""}`), ...(shape.index ? ["[key]"] : []), ...(shape.patterns ?? []).map((p) => `[${shapeText(p.key, depth + 1)}]`)].join(", ")} }`;
    case "record":
      return `Record<string, ${shapeText(shape.of, depth + 1)}>`;
    case "union":
      return shape.of.map((m) => shapeText(m, depth + 1)).join(" | ");
    case "intersection":
      return shape.of.map((m) => wrap(m, depth)).join(" & ");
    case "mu":
      return shapeText(shape.body, depth);
    case "rec":
      return "(recursive)";
    default:
      return shape.k;
  }
}

function wrap(shape: Shape, depth: number): string {
  const text = shapeText(shape, depth + 1);
  return shape.k === "union" || shape.k === "intersection" ? `(${text})` : text;
}

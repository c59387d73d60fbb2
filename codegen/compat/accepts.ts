/**
 * `accepts(reader, writer)`: does every JSON value written under shape `writer` pass the schema
 * generated for shape `reader`? The question a rolling deploy asks twice: can the new worker
 * read what old producers wrote, and can an old worker read what new producers write.
 *
 * It follows what the generated zod schemas do: a plain object strips keys it does not know
 * (an extra field passes); a key that is absent reads as `undefined`; a `Date` travels as an
 * ISO string (so `date` writes a string, but a `string` may not be a date). It answers `false`
 * when it cannot tell (two tuples of different layout, say): `--compat` then calls the change
 * breaking, which errs on the side of the messages.
 */
import type { Shape, ShapeProp } from "../shape.js";

type Env = readonly Extract<Shape, { k: "mu" }>[];

/** True when the reader accepts everything the writer can write. */
export function accepts(reader: Shape, writer: Shape): boolean {
  return new Checker().accepts(reader, [], writer, []);
}

/** True when an object property may be missing from a message: optional, or `undefined` allowed. */
export function mayBeAbsent(prop: ShapeProp): boolean {
  return prop.optional || allowsUndefined(prop.type);
}

function allowsUndefined(shape: Shape): boolean {
  switch (shape.k) {
    case "undefined":
    case "unknown":
    case "any":
      return true;
    case "union":
      return shape.of.some(allowsUndefined);
    default:
      return false;
  }
}

class Checker {
  /** Pairs of recursive shapes being compared: assumed to hold (coinduction). */
  readonly #assumed = new Set<string>();
  readonly #ids = new Map<Shape, number>();

  #id(shape: Shape): number {
    let id = this.#ids.get(shape);
    if (id === undefined) this.#ids.set(shape, (id = this.#ids.size));
    return id;
  }

  accepts(r: Shape, renv: Env, w: Shape, wenv: Env): boolean {
    // Unfold recursion first: `mu` opens a scope, `rec` points back to one.
    if (w.k === "rec") {
      const target = wenv[wenv.length - 1 - w.up];
      return target ? this.accepts(r, renv, target, wenv.slice(0, wenv.length - w.up - 1)) : false;
    }
    if (r.k === "rec") {
      const target = renv[renv.length - 1 - r.up];
      return target ? this.accepts(target, renv.slice(0, renv.length - r.up - 1), w, wenv) : false;
    }
    if (w.k === "mu" || r.k === "mu") {
      const key = `${this.#id(r)}:${this.#id(w)}`;
      if (this.#assumed.has(key)) return true;
      this.#assumed.add(key);
      const rr = r.k === "mu" ? r.body : r;
      const ww = w.k === "mu" ? w.body : w;
      const ok = this.accepts(
        rr,
        r.k === "mu" ? [...renv, r] : renv,
        ww,
        w.k === "mu" ? [...wenv, w] : wenv,
      );
      // An assumption that did not hold must not vouch for a later comparison.
      if (!ok) this.#assumed.delete(key);
      return ok;
    }
    if (r.k === "unknown" || r.k === "any") return true;
    if (w.k === "never") return true;
    if (w.k === "any") return false;
    if (w.k === "union") return w.of.every((m) => this.accepts(r, renv, m, wenv));
    if (w.k === "boolean" && r.k !== "boolean") {
      return [true, false].every((v) => this.accepts(r, renv, { k: "literal", v }, wenv));
    }
    if (r.k === "union") return r.of.some((m) => this.accepts(m, renv, w, wenv));
    if (r.k === "intersection") return r.of.every((m) => this.accepts(m, renv, w, wenv));
    if (w.k === "intersection") {
      const merged = mergeObjects(w.of);
      if (merged) return this.accepts(r, renv, merged, wenv);
      return w.of.some((m) => this.accepts(r, renv, m, wenv));
    }
    switch (r.k) {
      case "string":
        return (
          w.k === "string" ||
          w.k === "date" ||
          w.k === "template" ||
          (w.k === "literal" && typeof w.v === "string")
        );
      case "number":
        return w.k === "number" || (w.k === "literal" && typeof w.v === "number");
      case "boolean":
        return w.k === "boolean" || (w.k === "literal" && typeof w.v === "boolean");
      case "null":
      case "undefined":
      case "date":
        return w.k === r.k;
      case "never":
        return false;
      case "literal":
        return w.k === "literal" && w.v === r.v;
      case "template":
        return (
          (w.k === "template" && JSON.stringify(w) === JSON.stringify(r)) ||
          (w.k === "literal" && typeof w.v === "string" && templateMatches(r, w.v))
        );
      case "array":
        if (w.k === "array") return this.accepts(r.of, renv, w.of, wenv);
        if (w.k === "tuple") return w.items.every((i) => this.accepts(r.of, renv, i.type, wenv));
        return false;
      case "tuple":
        return w.k === "tuple" && this.#tuple(r, renv, w, wenv);
      case "record":
        if (w.k === "record") return this.accepts(r.of, renv, w.of, wenv);
        if (w.k === "object")
          return (
            w.props.every((p) => this.accepts(r.of, renv, p.type, wenv)) &&
            (!w.index || this.accepts(r.of, renv, w.index, wenv)) &&
            (w.patterns ?? []).every((p) => this.accepts(r.of, renv, p.of, wenv))
          );
        return false;
      case "object":
        return this.#object(r, renv, w, wenv);
    }
  }

  #tuple(
    r: Extract<Shape, { k: "tuple" }>,
    renv: Env,
    w: Extract<Shape, { k: "tuple" }>,
    wenv: Env,
  ): boolean {
    // Element by element, same layout only; a writer may stop where the reader's elements
    // turn optional.
    if (r.items.some((i) => i.kind === "rest") || w.items.some((i) => i.kind === "rest")) {
      return (
        JSON.stringify(r.items.map((i) => i.kind)) === JSON.stringify(w.items.map((i) => i.kind)) &&
        r.items.every((ri, n) => this.accepts(ri.type, renv, w.items[n]!.type, wenv))
      );
    }
    if (w.items.length > r.items.length) return false;
    return r.items.every((ri, n) => {
      const wi = w.items[n];
      if (!wi) return ri.kind === "optional";
      if (wi.kind === "optional" && ri.kind === "required") return false;
      return this.accepts(ri.type, renv, wi.type, wenv);
    });
  }

  #object(r: Extract<Shape, { k: "object" }>, renv: Env, w: Shape, wenv: Env): boolean {
    const patterns = r.patterns ?? [];
    if (w.k === "record") {
      // Any key may come, or none: one outside the reader's patterns needs its index signature.
      return (
        r.props.every((p) => mayBeAbsent(p) && this.accepts(p.type, renv, w.of, wenv)) &&
        (patterns.length === 0 || r.index !== undefined) &&
        (!r.index || this.accepts(r.index, renv, w.of, wenv)) &&
        patterns.every((p) => this.accepts(p.of, renv, w.of, wenv))
      );
    }
    if (w.k !== "object") return false;
    if (!this.#patterns(r, renv, w, wenv)) return false;
    const written = new Map(w.props.map((p) => [p.name, p]));
    for (const rp of r.props) {
      const wp = written.get(rp.name);
      if (!wp) {
        // Absent, unless the writer's index signature may write it.
        if (!mayBeAbsent(rp)) return false;
        if (w.index && !this.accepts(rp.type, renv, w.index, wenv)) return false;
        continue;
      }
      if (mayBeAbsent(wp) && !mayBeAbsent(rp)) return false;
      // Absence is settled above: what is written when present must fit.
      if (!this.accepts(rp.type, renv, withoutUndefined(wp.type), wenv)) return false;
    }
    if (r.index) {
      // Keys the reader does not name go through its index signature.
      const named = new Set(r.props.map((p) => p.name));
      for (const wp of w.props)
        if (!named.has(wp.name) && !this.accepts(r.index, renv, withoutUndefined(wp.type), wenv))
          return false;
      if (w.index && !this.accepts(r.index, renv, w.index, wenv)) return false;
    }
    return true;
  }

  /**
   * Keys the reader does not name, against its key patterns: such a key must match one of them
   * (or the reader's string index signature), and fit each it matches. Patterns are compared
   * as written: a writer's pattern the reader does not have is accepted only when the reader
   * has no patterns of its own (it strips those keys, or takes them through its index signature).
   */
  #patterns(
    r: Extract<Shape, { k: "object" }>,
    renv: Env,
    w: Extract<Shape, { k: "object" }>,
    wenv: Env,
  ): boolean {
    const rp = r.patterns ?? [];
    const wp = w.patterns ?? [];
    if (rp.length === 0 && wp.length === 0) return true;
    const named = new Set(r.props.map((p) => p.name));
    for (const p of w.props) {
      if (named.has(p.name)) continue;
      const matching = rp.filter((q) => keyMatches(q.key, p.name));
      if (rp.length > 0 && matching.length === 0 && !r.index) return false;
      const type = withoutUndefined(p.type);
      if (!matching.every((q) => this.accepts(q.of, renv, type, wenv))) return false;
    }
    // A reader property the writer leaves out may still come through a writer's pattern.
    for (const p of r.props) {
      if (w.props.some((q) => q.name === p.name)) continue;
      for (const q of wp)
        if (keyMatches(q.key, p.name) && !this.accepts(p.type, renv, q.of, wenv)) return false;
    }
    if (w.index && rp.length > 0) {
      if (!r.index) return false;
      if (!rp.every((q) => this.accepts(q.of, renv, w.index!, wenv))) return false;
    }
    for (const q of wp) {
      if (r.index && !this.accepts(r.index, renv, q.of, wenv)) return false;
      const same = rp.find((x) => JSON.stringify(x.key) === JSON.stringify(q.key));
      // Without patterns the reader strips such keys, or takes them through its index signature.
      if (same ? !this.accepts(same.of, renv, q.of, wenv) : rp.length > 0) return false;
    }
    return true;
  }
}

/** True when an object key fits an index signature's key shape (`number`, a template). */
function keyMatches(key: Shape, name: string): boolean {
  if (key.k === "number") return String(Number(name)) === name;
  if (key.k === "string") return true;
  return key.k === "template" && templateMatches(key, name);
}

/** What a property holds when it is present: `undefined` travels as a missing key. */
function withoutUndefined(shape: Shape): Shape {
  if (shape.k === "undefined") return { k: "never" };
  if (shape.k !== "union") return shape;
  const of = shape.of.filter((m) => m.k !== "undefined");
  return of.length === 0 ? { k: "never" } : of.length === 1 ? of[0]! : { k: "union", of };
}

function mergeObjects(members: readonly Shape[]): Shape | undefined {
  if (!members.every((m) => m.k === "object")) return undefined;
  const props = new Map<string, ShapeProp>();
  for (const m of members as Extract<Shape, { k: "object" }>[])
    for (const p of m.props) {
      const seen = props.get(p.name);
      props.set(p.name, seen ? { ...p, optional: seen.optional && p.optional } : p);
    }
  const objects = members as Extract<Shape, { k: "object" }>[];
  const patterns = objects.flatMap((m) => m.patterns ?? []);
  const index = objects.find((m) => m.index)?.index;
  return {
    k: "object",
    props: [...props.values()],
    ...(index ? { index } : {}),
    ...(patterns.length > 0 ? { patterns } : {}),
  };
}

function templateMatches(template: Extract<Shape, { k: "template" }>, value: string): boolean {
  const pattern = template.parts
    .map((p) =>
      typeof p === "string"
        ? p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        : p.k === "number"
          ? "-?\\d+(?:\\.\\d+)?"
          : p.k === "literal"
            ? String(p.v).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
            : ".*",
    )
    .join("");
  return new RegExp(`^${pattern}$`).test(value);
}

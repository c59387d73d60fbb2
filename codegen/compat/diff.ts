/**
 * The changes between two shapes of one actor's arguments (or result), each located by its path
 * and checked in both directions with `accepts`.
 */
import { shapeText, type Shape, type ShapeProp } from "../shape.js";
import { accepts, mayBeAbsent } from "./accepts.js";

/** One change at one place. `oldToNew`/`newToOld`: can the reader of one side take the other's values. */
export interface ShapeChange {
  /** `args.customer.email`, `result`, `args.tags[]`. */
  readonly path: string;
  readonly change: string;
  /** True when values written under the old shape pass the new schema. */
  readonly oldFitsNew: boolean;
  /** True when values written under the new shape pass the old schema. */
  readonly newFitsOld: boolean;
}

/** The changes from `before` to `after`, under `path`, deepest first only where both are objects. */
export function diffShapes(path: string, before: Shape, after: Shape): ShapeChange[] {
  if (same(before, after)) return [];
  // A recursive shape is compared whole: its body's references point back into it.
  const b = before;
  const a = after;
  if (b.k === "object" && a.k === "object") return diffObjects(path, b, a);
  if (b.k === "array" && a.k === "array") return diffShapes(`${path}[]`, b.of, a.of);
  if (b.k === "record" && a.k === "record") return diffShapes(`${path}{}`, b.of, a.of);
  const oldFitsNew = accepts(after, before);
  const newFitsOld = accepts(before, after);
  return [{ path, change: describe(b, a, oldFitsNew, newFitsOld), oldFitsNew, newFitsOld }];
}

function describe(before: Shape, after: Shape, oldFitsNew: boolean, newFitsOld: boolean): string {
  const text = `${shapeText(before)} → ${shapeText(after)}`;
  if (before.k === "union" || after.k === "union") {
    if (oldFitsNew && !newFitsOld) return `widened: ${text}`;
    if (!oldFitsNew && newFitsOld) return `narrowed: ${text}`;
  }
  if (oldFitsNew && !newFitsOld) return `type widened: ${text}`;
  if (!oldFitsNew && newFitsOld) return `type narrowed: ${text}`;
  return `type changed: ${text}`;
}

function diffObjects(
  path: string,
  before: Extract<Shape, { k: "object" }>,
  after: Extract<Shape, { k: "object" }>,
): ShapeChange[] {
  const out: ShapeChange[] = [];
  const old = new Map(before.props.map((p) => [p.name, p]));
  const now = new Map(after.props.map((p) => [p.name, p]));
  const names = [...new Set([...old.keys(), ...now.keys()])].sort();
  for (const name of names) {
    const at = `${path}.${name}`;
    const o = old.get(name);
    const n = now.get(name);
    if (!o && n) {
      // An old message lacks the field; an old worker strips it from a new one.
      const oldFitsNew = mayBeAbsent(n) && (!before.index || accepts(n.type, before.index));
      const newFitsOld = !before.index || accepts(before.index, n.type);
      out.push({ path: at, change: `field added (${requiredness(n)})`, oldFitsNew, newFitsOld });
    } else if (o && !n) {
      const oldFitsNew = !after.index || accepts(after.index, o.type);
      const newFitsOld = mayBeAbsent(o) && (!after.index || accepts(o.type, after.index));
      out.push({
        path: at,
        change: `field removed (was ${requiredness(o)})`,
        oldFitsNew,
        newFitsOld,
      });
    } else if (o && n) {
      if (mayBeAbsent(o) !== mayBeAbsent(n)) {
        const madeOptional = mayBeAbsent(n);
        out.push({
          path: at,
          change: madeOptional ? "field made optional" : "field made required",
          oldFitsNew: madeOptional,
          newFitsOld: !madeOptional,
        });
      }
      out.push(...diffShapes(at, stripUndefined(o.type), stripUndefined(n.type)));
    }
  }
  const bi = before.index;
  const ai = after.index;
  if (bi || ai) {
    if (!bi || !ai) {
      out.push({
        path: `${path}[key]`,
        change: bi ? "index signature removed" : "index signature added",
        oldFitsNew: accepts(after, before),
        newFitsOld: accepts(before, after),
      });
    } else out.push(...diffShapes(`${path}[key]`, bi, ai));
  }
  if (JSON.stringify(before.patterns ?? []) !== JSON.stringify(after.patterns ?? [])) {
    out.push({
      path: `${path}[key]`,
      change: "key patterns changed",
      oldFitsNew: accepts(after, before),
      newFitsOld: accepts(before, after),
    });
  }
  return out;
}

function requiredness(p: ShapeProp): string {
  return mayBeAbsent(p) ? "optional" : "required";
}

function stripUndefined(shape: Shape): Shape {
  if (shape.k !== "union") return shape;
  const of = shape.of.filter((m) => m.k !== "undefined");
  return of.length === 1 ? of[0]! : { k: "union", of };
}

function same(a: Shape, b: Shape): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The change classes of `repid-gen --compat` and how each is classified in both directions
 * (issue 16). old→new: a new worker reads what an old producer wrote; new→old: an old worker
 * reads what a new producer writes. Arguments here; results are read the other way round (the
 * report swaps the columns, see v1→v2 in compat.test.ts).
 */
import { describe, expect, it } from "vitest";
import { accepts } from "../../codegen/compat/accepts.js";
import { diffShapes } from "../../codegen/compat/diff.js";
import type { Shape, ShapeProp } from "../../codegen/model.js";
import { union } from "../../codegen/shape.js";

const str: Shape = { k: "string" };
const num: Shape = { k: "number" };
const date: Shape = { k: "date" };
const dataKey: Shape = { k: "template", parts: ["data-", str] };
const keyed = (key: Shape, of: Shape, ...props: ShapeProp[]): Shape => ({
  k: "object",
  props,
  patterns: [{ key, of }],
});
const lit = (v: string | number | boolean): Shape => ({ k: "literal", v });
const req = (name: string, type: Shape): ShapeProp => ({ name, optional: false, type });
const opt = (name: string, type: Shape): ShapeProp => ({ name, optional: true, type });
const obj = (...props: ShapeProp[]): Shape => ({
  k: "object",
  props: [...props].sort((a, b) => a.name.localeCompare(b.name)),
});

/** [class, before, after, old→new, new→old] */
const CLASSES: readonly [string, Shape, Shape, boolean, boolean][] = [
  ["required field added", obj(req("a", str)), obj(req("a", str), req("b", num)), false, true],
  ["optional field added", obj(req("a", str)), obj(req("a", str), opt("b", num)), true, true],
  [
    "field added, `T | undefined`",
    obj(),
    obj(req("b", union([num, { k: "undefined" }]))),
    true,
    true,
  ],
  ["required field removed", obj(req("a", str), req("b", num)), obj(req("a", str)), true, false],
  ["optional field removed", obj(req("a", str), opt("b", num)), obj(req("a", str)), true, true],
  ["field made optional", obj(req("a", str)), obj(opt("a", str)), true, false],
  ["field made required", obj(opt("a", str)), obj(req("a", str)), false, true],
  [
    "union widened",
    union([lit("a"), lit("b")]),
    union([lit("a"), lit("b"), lit("c")]),
    true,
    false,
  ],
  ["union narrowed", union([lit("a"), lit("b")]), lit("a"), false, true],
  ["members swapped", union([lit("a"), lit("b")]), union([lit("a"), lit("c")]), false, false],
  ["literal widened to its type", lit("a"), str, true, false],
  ["type changed", str, num, false, false],
  ["nullable added", str, union([str, { k: "null" }]), true, false],
  ["Date → string (dates travel as ISO strings)", date, str, true, false],
  ["string → Date", str, date, false, true],
  [
    "array element widened",
    { k: "array", of: num },
    { k: "array", of: union([num, str]) },
    true,
    false,
  ],
  [
    "record → object with those keys optional (values of the same type)",
    { k: "record", of: num },
    obj(opt("x", num)),
    true,
    true,
  ],
  ["number → unknown", num, { k: "unknown" }, true, false],
  [
    "key pattern added beside a field (an old worker strips those keys)",
    obj(req("a", str)),
    keyed(dataKey, str, req("a", str)),
    true,
    true,
  ],
  [
    "key pattern's values narrowed",
    keyed(dataKey, union([num, str])),
    keyed(dataKey, str),
    false,
    true,
  ],
  ["record → numeric keys only", { k: "record", of: num }, keyed(num, num), false, true],
  [
    "tuple element added, optional",
    { k: "tuple", items: [{ kind: "required", type: num }] },
    {
      k: "tuple",
      items: [
        { kind: "required", type: num },
        { kind: "optional", type: num },
      ],
    },
    true,
    false,
  ],
];

describe("--compat change classes, both directions (issue 16)", () => {
  for (const [name, before, after, oldToNew, newToOld] of CLASSES) {
    it(`${name}: old→new ${oldToNew ? "ok" : "breaks"}, new→old ${newToOld ? "ok" : "breaks"}`, () => {
      expect([accepts(after, before), accepts(before, after)]).toEqual([oldToNew, newToOld]);
      const changes = diffShapes("args", before, after);
      expect(changes.length).toBeGreaterThan(0);
      // The report's rows agree with the whole-shape answer: all rows ok iff the whole is.
      expect(changes.every((c) => c.oldFitsNew)).toBe(oldToNew);
      expect(changes.every((c) => c.newFitsOld)).toBe(newToOld);
    });
  }

  it("locates each change at its path, one row per field", () => {
    const before = obj(
      req("user", obj(req("email", str), opt("vip", { k: "boolean" }))),
      req("n", num),
    );
    const after = obj(
      req("user", obj(req("email", str), req("vip", { k: "boolean" }))),
      req("n", str),
    );
    expect(diffShapes("args", before, after).map((c) => [c.path, c.change])).toEqual([
      ["args.n", "type changed: number → string"],
      ["args.user.vip", "field made required"],
    ]);
  });

  it("recursive shapes: the same tree reads alike; a changed node inside the recursion is seen", () => {
    const tree = (leaf: Shape): Shape => ({
      k: "mu",
      body: obj(req("value", leaf), req("children", { k: "array", of: { k: "rec", up: 0 } })),
    });
    expect(accepts(tree(num), tree(num))).toBe(true);
    expect(accepts(tree(union([num, str])), tree(num))).toBe(true);
    expect(accepts(tree(num), tree(union([num, str])))).toBe(false);
  });

  it("an unchanged shape has no changes", () => {
    expect(diffShapes("args", obj(req("a", str)), obj(req("a", str)))).toEqual([]);
  });
});

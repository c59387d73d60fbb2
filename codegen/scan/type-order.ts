import type { TypeNode } from "../model.js";

/** Drops `undefined` from a union: an optional property already says it may be absent. */
export function withoutUndefined(node: TypeNode): TypeNode {
  if (node.kind !== "union") return node;
  const members = node.members.filter((m) => m.kind !== "undefined");
  if (members.length === node.members.length) return node;
  return members.length === 1 ? members[0]! : { kind: "union", members };
}

const RANK: Record<TypeNode["kind"], number> = {
  string: 0,
  template: 0,
  branded: 0,
  number: 1,
  boolean: 2,
  literal: 3,
  "enum-member": 4,
  date: 5,
  ref: 6,
  array: 7,
  tuple: 8,
  object: 9,
  record: 10,
  intersection: 11,
  union: 12,
  unknown: 13,
  any: 14,
  never: 15,
  null: 16,
  undefined: 17,
  void: 18,
};

/** A total order on type nodes, so unions print the same whatever the checker met first. */
export function compareTypeNodes(a: TypeNode, b: TypeNode): number {
  const byKind = RANK[a.kind] - RANK[b.kind];
  if (byKind !== 0) return byKind;
  const ka = JSON.stringify(a);
  const kb = JSON.stringify(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

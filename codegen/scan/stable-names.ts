import type { NameAllocator } from "./names.js";

/** A named type asking for a name in the generated module. */
export interface NameRequest {
  /** The converter's internal key of the type. */
  readonly key: string;
  /** The name it would like: its declared name, plus generic argument names. */
  readonly base: string;
  /**
   * Where it is declared, outermost first: the path's folders, the file name without its
   * extension, then any enclosing namespaces. Used only to tell same-named types apart.
   */
  readonly segments: readonly string[];
  /**
   * Orders types that nothing else tells apart (a generic instantiation's full text); asked
   * only then, as the checker's full text of a type is not free.
   */
  readonly tiebreak: () => string;
}

function pascal(segment: string): string {
  const words = segment.split(/[^A-Za-z0-9]+/).filter((w) => w !== "");
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

/**
 * Names each type from its own declaration, never from the order the scanner met it: a type
 * keeps its declared name unless another emitted type has the same one; then each of them is
 * prefixed with the part of its own path (namespace, file, folder, innermost first) that tells
 * them apart. So adding a file with its own `Item` never renames the
 * `ATypesItem` of another file. Final clashes (with the module's own names) get a number, in a
 * fixed order.
 */
export function stableNames(
  requests: readonly NameRequest[],
  allocator: NameAllocator,
): Map<string, string> {
  const groups = new Map<string, NameRequest[]>();
  for (const r of requests) {
    const group = groups.get(r.base);
    if (group) group.push(r);
    else groups.set(r.base, [r]);
  }
  const wanted = new Map<string, string>();
  for (const [base, group] of groups) {
    if (group.length === 1) {
      wanted.set(group[0]!.key, base);
      continue;
    }
    const longest = Math.max(...group.map((r) => r.segments.length));
    // First one part of the path that tells them apart (`a/types.ts` and `b/types.ts` give
    // `AItem` and `BItem`), then the fewest trailing parts together.
    const candidates = [
      (r: NameRequest, k: number) => pascal(r.segments[r.segments.length - k] ?? ""),
      (r: NameRequest, k: number) => pascal(r.segments.slice(-k).join("-")),
    ];
    let named = false;
    for (const qualify of candidates) {
      for (let k = 1; k <= longest && !named; k++) {
        const names = group.map((r) => qualify(r, k) + base);
        if (new Set(names).size === group.length) {
          group.forEach((r, i) => wanted.set(r.key, names[i]!));
          named = true;
        }
      }
    }
    if (!named) {
      const keys = new Map(group.map((r) => [r, r.tiebreak()]));
      const sorted = [...group].sort((a, b) => (keys.get(a)! < keys.get(b)! ? -1 : 1));
      sorted.forEach((r, i) => wanted.set(r.key, i === 0 ? base : `${base}${i + 1}`));
    }
  }
  const order = [...wanted.entries()].sort(([ka, a], [kb, b]) =>
    a !== b ? (a < b ? -1 : 1) : ka < kb ? -1 : 1,
  );
  const result = new Map<string, string>();
  for (const [key, name] of order) result.set(key, allocator.allocate(name));
  return result;
}

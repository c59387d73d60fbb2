/**
 * `items.map(f)`, always as a packed array. V8's optimized code builds the result of
 * `Array.prototype.map` as a holey array where the interpreter builds a packed one: once the
 * caller of a `.map` is optimized, the functions it hands the result to meet a second array shape
 * and throw away their own optimized code. On the worker's hot path that pushed full speed back
 * from a few thousand jobs to tens of thousands (see docs/benchmarks.md, fresh workers).
 */
export function mapped<T, U>(items: readonly T[], f: (item: T, index: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < items.length; i++) out.push(f(items[i]!, i));
  return out;
}

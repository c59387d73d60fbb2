/**
 * Writes N actor files (default 200) into a folder, for timing repid-gen:
 *   tsx test/codegen/bench/make-actors.ts /tmp/repid-bench 200
 *   time node bin/repid-gen.js --actors "/tmp/repid-bench/*.ts" --out /tmp/repid-bench-out/registry.ts
 * Each file has its own interface, an enum-like union, a nested array and a Date.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The text of the i-th benchmark actor file. */
export function actorFile(i: number): string {
  return `import { Router } from "repid";

export interface Item${i} {
  sku: string;
  quantity: number;
  tags?: string[];
}

export interface Order${i} {
  id: string;
  status: "new" | "paid" | "shipped";
  items: Item${i}[];
  placedAt: Date;
  note?: string | null;
}

const router = new Router();

export const process${i} = router.actor(
  { name: "process_order_${i}", queue: "orders-${i % 10}", timeout: "30s" },
  async (order: Order${i}): Promise<{ total: number; ok: boolean }> => ({ total: order.items.length, ok: true }),
);
`;
}

/** Writes `count` files into `folder`. */
export function writeActorFiles(folder: string, count: number): void {
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(join(folder, `actor-${String(i).padStart(3, "0")}.ts`), actorFile(i));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeActorFiles(process.argv[2] ?? "/tmp/repid-bench", Number(process.argv[3] ?? 200));
}

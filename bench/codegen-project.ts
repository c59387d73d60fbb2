/**
 * Times repid-gen over N generated actor files (default 200):
 *   npm run bench:gen            (or: tsx bench/codegen-project.ts --run 200)
 * `npm run bench` uses `makeProject` too, for its repid-gen scenario.
 * Writes the files into a fresh temp project whose node_modules links to this repository (as
 * `repid`) and its zod, then runs the real CLI twice: a first run that writes the module, and a
 * second with nothing to do. Prints the wall-clock times. Not a test: tests never assert speed.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The text of the i-th benchmark actor file: an interface, a union, a nested array, a Date. */
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

/** A temp project with `count` actor files, resolving `repid` and `zod` to this checkout. */
export function makeProject(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), "repid-gen-bench-"));
  mkdirSync(join(dir, "actors"));
  mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules", "repid"), "dir");
  symlinkSync(join(ROOT, "node_modules", "zod"), join(dir, "node_modules", "zod"), "dir");
  symlinkSync(
    join(ROOT, "node_modules", "@types", "node"),
    join(dir, "node_modules", "@types", "node"),
    "dir",
  );
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        customConditions: ["repid-source"],
        strict: true,
        skipLibCheck: true,
        types: ["node"],
        noEmit: true,
      },
    }),
  );
  writeFileSync(
    join(dir, "repid.config.json"),
    JSON.stringify({ actors: ["actors/*.ts"], output: "generated/registry.ts" }),
  );
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench", type: "module" }));
  for (let i = 0; i < count; i++) {
    writeFileSync(join(dir, "actors", `actor-${String(i).padStart(3, "0")}.ts`), actorFile(i));
  }
  return dir;
}

/** Runs the real CLI over the project once; returns the wall-clock milliseconds. */
export function timeRun(dir: string): number {
  const started = performance.now();
  execFileSync(process.execPath, [join(ROOT, "bin/repid-gen.js"), "--cwd", dir], {
    stdio: "inherit",
  });
  return performance.now() - started;
}

if (process.argv.includes("--run")) {
  const count = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 200);
  const dir = makeProject(count);
  try {
    const first = timeRun(dir);
    const second = timeRun(dir);
    process.stdout.write(
      `repid-gen over ${count} actor files: ${Math.round(first)} ms (writing), ${Math.round(second)} ms (up to date), wall clock including node + tsx start\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

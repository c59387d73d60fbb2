/**
 * Times repid-gen over N generated actor files (default 200), and what the registry costs the
 * compiler:
 *   npm run bench:gen            (or: tsx bench/codegen-project.ts --run 200)
 * `npm run bench` uses `makeProject` and `typeCheckFigures` too, in its codegen group.
 * Writes the files into a fresh temp project whose node_modules links to this repository (as
 * `repid`) and its zod, then runs the real CLI twice: a first run that writes the module, and a
 * second with nothing to do. Then compiles the generated module with a consumer, as a producer
 * service would, with `tsc --extendedDiagnostics`. Not a test: tests never assert speed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
        lib: ["ES2023"],
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

/** What `tsc --extendedDiagnostics` reports for the generated module plus a consumer. */
export interface TypeCheckFigures {
  readonly instantiations: number;
  readonly types: number;
  /** "Memory used", in MiB. */
  readonly memoryMiB: number;
  /** "Check time" and "Total time", in seconds. */
  readonly checkSeconds: number;
  readonly totalSeconds: number;
  /** Compiler errors (there should be none). */
  readonly errors: number;
}

/**
 * Compiles `generated/registry.ts` (written by `timeRun`) and a consumer that enqueues to a few
 * actors and reads a result, with TypeScript from this checkout. The actor files are left out:
 * this is what a producer service pays for the registry.
 */
export function typeCheckFigures(dir: string, count: number): TypeCheckFigures {
  const [a, b, c] = [0, 1, 2].map((i) => Math.min(i, count - 1));
  writeFileSync(
    join(dir, "consumer.ts"),
    `import { createJobs } from "./generated/registry.js";

const jobs = createJobs();
await jobs.processOrder${a}.enqueue({ id: "o", status: "new", items: [{ sku: "s", quantity: 1 }], placedAt: new Date() });
await jobs.processOrder${b}.enqueue({ id: "o", status: "paid", items: [], placedAt: "2024-01-01T00:00:00Z", note: null });
const result: { total: number; ok: boolean } = await jobs.processOrder${c}.result("id");
void result;
`,
  );
  const config = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")) as object;
  writeFileSync(
    join(dir, "tsconfig.consumer.json"),
    JSON.stringify({ ...config, files: ["generated/registry.ts", "consumer.ts"] }),
  );
  const run = spawnSync(
    process.execPath,
    [
      join(ROOT, "node_modules/typescript/bin/tsc"),
      "-p",
      join(dir, "tsconfig.consumer.json"),
      "--extendedDiagnostics",
    ],
    { encoding: "utf8" },
  );
  const figure = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+([\\d.]+)`, "m").exec(run.stdout);
    return match ? Number(match[1]) : Number.NaN;
  };
  return {
    instantiations: figure("Instantiations"),
    types: figure("Types"),
    memoryMiB: Math.round(figure("Memory used") / 1024),
    checkSeconds: figure("Check time"),
    totalSeconds: figure("Total time"),
    errors: (run.stdout.match(/error TS\d+/g) ?? []).length,
  };
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
    const tc = typeCheckFigures(dir, count);
    process.stdout.write(
      `tsc of the registry + a consumer: ${tc.instantiations} instantiations (${Math.round(tc.instantiations / count)} per actor), ${tc.types} types, ${tc.memoryMiB} MiB, check ${tc.checkSeconds} s, total ${tc.totalSeconds} s, ${tc.errors} error(s)\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

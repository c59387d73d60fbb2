/**
 * The house rules of src/ (CONTRIBUTING.md, "The repository"), read from the imports themselves:
 * every arrow points down, no two files import each other (even for types), and no source file
 * is over 400 lines.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const src = join(root, "src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|js|lua)$/.test(entry.name) ? [path] : [];
  });
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

/** Relative imports of each TypeScript file of src/, as paths relative to src/. */
function imports(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(src).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(file, "utf8");
    // Only imports of files that exist: an example in a comment names the user's files.
    const targets = [...text.matchAll(IMPORT)]
      .map((m) => resolve(dirname(file), m[1]!).replace(/\.js$/, ".ts"))
      .filter((path) => existsSync(path))
      .map((path) => relative(src, path));
    graph.set(relative(src, file), targets);
  }
  return graph;
}

/** The wing of a path relative to src/: its first folder, or "entry" for the files at the top. */
function wing(path: string): string {
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : "entry";
}

/** What each wing may import besides itself. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  brokers: ["core"],
  results: ["core", "brokers"],
  connection: ["core", "brokers", "results"],
  producer: ["core", "brokers", "connection"],
  worker: ["core", "brokers", "connection", "ops"],
  ops: ["core", "brokers", "connection"],
  testing: ["core", "brokers", "connection", "producer", "worker"],
  cli: ["core", "brokers", "connection", "producer", "ops", "results"],
};

describe("src/ layout", () => {
  const graph = imports();

  it("every import points down: producer and worker never import each other, brokers import only core", () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = wing(file);
      if (from === "entry") continue;
      for (const target of targets) {
        const to = wing(target);
        if (to !== from && !MAY_IMPORT[from]?.includes(to)) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("no two files import each other, even for types", () => {
    const pairs: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (file < target && graph.get(target)?.includes(file)) pairs.push(`${file} <-> ${target}`);
      }
    }
    expect(pairs).toEqual([]);
  });

  it("has no import cycle", () => {
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it("no source file is over 400 lines", () => {
    const long = ["src", "codegen", "templates", "bin"]
      .flatMap((dir) => sources(join(root, dir)))
      .map((file) => ({
        file: relative(root, file),
        lines: readFileSync(file, "utf8").split("\n").length - 1,
      }))
      .filter(({ lines }) => lines > 400);
    expect(long).toEqual([]);
  });
});

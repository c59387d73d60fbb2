import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT, compile, type CompileError } from "./compile.js";
import { BASE_OPTIONS } from "./temp-project.js";

const expectedDir = join(ROOT, "test/codegen/expected");
const expectedFiles = readdirSync(expectedDir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => join(expectedDir, f));
const consumers = [
  "client-types.ts",
  "cases-types.ts",
  "edge-types.ts",
  "limits-types.ts",
  "flow-types.ts",
  "progress-types.ts",
].map((f) => join(ROOT, "test/types", f));
const misuses = [
  "misuse.ts",
  "cases-misuse.ts",
  "limits-misuse.ts",
  "flow-misuse.ts",
  "progress-misuse.ts",
].map((f) => join(ROOT, "test/types/fixtures", f));
const ALL = [...expectedFiles, ...consumers, ...misuses];

/** Lines that follow a `// ✗` marker: each must hold a compile error. */
function markedLines(file: string): number[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line, i) => (line.trim().startsWith("// ✗") ? [i + 2] : []));
}

function failingLines(errors: readonly CompileError[], file: string): number[] {
  return [...new Set(errors.filter((e) => e.file === file).map((e) => e.line))].sort(
    (a, b) => a - b,
  );
}

/** A tsconfig in a fresh folder with `options` (paths of the files are absolute). */
function tsconfigWith(options: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "repid-tsconfig-"));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options }));
  return join(dir, "tsconfig.json");
}

/** The options `tsc --init` of this TypeScript writes, read back as its users' tsc reads them. */
function tscInitOptions(): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "repid-tsc-init-"));
  execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "--init"], {
    cwd: dir,
  });
  const read = ts.readConfigFile(join(dir, "tsconfig.json"), (p) => ts.sys.readFile(p));
  return (read.config as { compilerOptions: Record<string, unknown> }).compilerOptions;
}

/**
 * Each configuration users have: the repository's own, the strictest flags, and the defaults
 * of `tsc --init`. Only `customConditions` is added, so that `repid` resolves to its sources
 * in this checkout (a user's install resolves it to its built declarations).
 */
const CONFIGS: Record<string, string> = {
  "the repository's tsconfig": join(ROOT, "tsconfig.json"),
  "exactOptionalPropertyTypes, noUncheckedIndexedAccess, noPropertyAccessFromIndexSignature":
    tsconfigWith({
      ...BASE_OPTIONS,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noPropertyAccessFromIndexSignature: true,
      noImplicitOverride: true,
      noImplicitReturns: true,
      noUnusedLocals: true,
      noUnusedParameters: true,
    }),
  "tsc --init defaults of TypeScript 5.9": tsconfigWith({
    ...tscInitOptions(),
    customConditions: ["repid-source"],
  }),
};

for (const [config, tsconfig] of Object.entries(CONFIGS)) {
  describe(`compile-time types of the generated client, under ${config}`, () => {
    // One program for all checks of a configuration: building it is the slow part.
    const errors = compile(ALL, tsconfig);

    it("compiles the golden expected modules", () => {
      expect(errors.filter((e) => expectedFiles.includes(e.file))).toEqual([]);
    });

    it("accepts correct calls, and every @ts-expect-error meets an error", () => {
      expect(errors.filter((e) => consumers.includes(e.file))).toEqual([]);
    });

    it("rejects each misuse: one error on each marked line, none elsewhere", () => {
      for (const file of misuses) {
        const marked = markedLines(file);
        expect(marked.length, file).toBeGreaterThanOrEqual(10);
        expect(failingLines(errors, file), file).toEqual(marked);
      }
    });
  });
}

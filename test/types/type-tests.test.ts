import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, compile } from "./compile.js";

const expectedDir = join(ROOT, "test/codegen/expected");
const expectedFiles = readdirSync(expectedDir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => join(expectedDir, f));
const clientTypes = join(ROOT, "test/types/client-types.ts");
const misuse = join(ROOT, "test/types/fixtures/misuse.ts");

/** Lines that follow a `// ✗` marker: each must hold a compile error. */
function markedLines(file: string): number[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line, i) => (line.trim().startsWith("// ✗") ? [i + 2] : []));
}

describe("compile-time types of the generated client", () => {
  // One program for all three checks: building it is the slow part.
  const errors = compile([...expectedFiles, clientTypes, misuse]);

  it("compiles the golden expected modules", () => {
    expect(errors.filter((e) => expectedFiles.includes(e.file))).toEqual([]);
  });

  it("accepts correct calls, and every @ts-expect-error meets an error", () => {
    expect(errors.filter((e) => e.file === clientTypes)).toEqual([]);
  });

  it("rejects each misuse: wrong field, missing field, extra field, unknown actor, bad option, result misuse", () => {
    const marked = markedLines(misuse);
    expect(marked.length).toBeGreaterThanOrEqual(11);
    const failing = [...new Set(errors.filter((e) => e.file === misuse).map((e) => e.line))].sort(
      (a, b) => a - b,
    );
    expect(failing).toEqual(marked);
  });
});

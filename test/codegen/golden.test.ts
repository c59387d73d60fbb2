import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, render } from "./helpers.js";

/**
 * Fixture actor files in, expected generated modules out. The expected files live under
 * test/codegen/expected/ and are part of the root tsconfig, so `tsc` compiles them too (see
 * compile.test.ts). Set UPDATE_GOLDEN=1 to rewrite them after an intended change.
 */
const CASES = ["basic", "receivers", "cases", "edge-types", "limits"] as const;

describe("golden fixtures", () => {
  for (const name of CASES) {
    it(`generates test/codegen/expected/${name}.ts`, async () => {
      const expectedPath = `test/codegen/expected/${name}.ts`;
      const text = await render(
        // Ambient .d.ts files are not actor files: the scanner must find them through the tsconfig.
        [`test/codegen/fixtures/${name}/**/*.ts`, "!**/*.err.ts", "!**/*.d.ts"],
        expectedPath,
      );
      if (process.env["UPDATE_GOLDEN"]) writeFileSync(join(ROOT, expectedPath), text);
      expect(text).toBe(readFileSync(join(ROOT, expectedPath), "utf8"));
    });
  }

  it("imports only repid and zod, never an actor file", () => {
    for (const file of [
      ...CASES.map((c) => `test/codegen/expected/${c}.ts`),
      "example-app/generated/registry.ts",
    ]) {
      const text = readFileSync(join(ROOT, file), "utf8");
      const specifiers = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
      expect(specifiers, file).toEqual(["repid", "zod"]);
      expect(text, file).not.toMatch(/\bimport\(|require\(/);
    }
  });

  it("gives the same bytes from scratch (no existing file, so it is laid out anew) and on a second run", async () => {
    // The output path is not in the text, so a path with no file forces a full format.
    const glob = ["test/codegen/fixtures/basic/types.ts", "test/codegen/fixtures/basic/*.ts"];
    const first = await render(glob, "test/codegen/expected/does-not-exist.ts");
    const second = await render([...glob].reverse(), "test/codegen/expected/does-not-exist.ts");
    expect(second).toBe(first);
    expect(first).toBe(readFileSync(join(ROOT, "test/codegen/expected/basic.ts"), "utf8"));
  });
});

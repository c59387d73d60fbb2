import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Generator } from "../../codegen/generate.js";
import { registryModuleText } from "../../templates/registry-module.js";
import { options } from "../codegen/helpers.js";
import { compile } from "./compile.js";
import { tempProject } from "./temp-project.js";

/**
 * The generated file casts each schema to its declared type, so that a registry of hundreds of
 * actors type-checks in seconds. This test is what keeps that cast honest: it renders every
 * fixture in verify mode, where each schema's inferred type must equal the declared output type
 * and accept the declared input type, and runs the compiler over all of them once.
 */
const SOURCES: Record<string, string[]> = {
  basic: ["test/codegen/fixtures/basic/**/*.ts", "!**/*.err.ts"],
  receivers: ["test/codegen/fixtures/receivers/**/*.ts"],
  cases: ["test/codegen/fixtures/cases/**/*.ts", "!**/*.d.ts"],
  "edge-types": ["test/codegen/fixtures/edge-types/**/*.ts"],
  limits: ["test/codegen/fixtures/limits/**/*.ts"],
  "example-app": ["example-app/actors/**/*.ts"],
};

async function verifyText(globs: string[]): Promise<string> {
  const rendered = await new Generator(options(globs, "test/codegen/expected/none.ts")).render();
  return registryModuleText(rendered.model, { verify: true });
}

/** Two deliberate mistakes the check must catch: a wrong type, and a dropped optional key. */
function mutate(text: string): string {
  const wrongType = text.replace("fontSize: z.number()", "fontSize: z.string()");
  const droppedKey = wrongType.replace("bio: z.string().optional(),", "");
  expect(droppedKey).not.toBe(wrongType);
  expect(wrongType).not.toBe(text);
  return droppedKey;
}

describe("schemas agree with the emitted types (compile-time check, run once here)", async () => {
  const files: Record<string, string> = {};
  for (const [name, globs] of Object.entries(SOURCES))
    files[`${name}.ts`] = await verifyText(globs);
  files["mutated.ts"] = mutate(files["cases.ts"]!);
  const dir = tempProject(files);
  const errors = compile(
    Object.keys(files).map((f) => join(dir, f)),
    join(dir, "tsconfig.json"),
  );

  for (const name of Object.keys(SOURCES)) {
    it(`${name}: every schema's inferred type equals its declared type`, () => {
      expect(errors.filter((e) => e.file === join(dir, `${name}.ts`))).toEqual([]);
    });
  }

  it("fails when a schema disagrees with its type (wrong type, missing optional key)", () => {
    const lines = readFileSync(join(dir, "mutated.ts"), "utf8").split("\n");
    const failing = errors
      .filter((e) => e.file === join(dir, "mutated.ts"))
      .map((e) => /type (Check\w+)/.exec(lines[e.line - 1] ?? "")?.[1]);
    expect([...new Set(failing)].sort()).toEqual(["CheckProfileSchema", "CheckSettingsSchema"]);
  });
});

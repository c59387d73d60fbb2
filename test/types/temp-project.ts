import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./compile.js";

/** Compiler options of a plain strict NodeNext project that resolves `repid` to its sources. */
export const BASE_OPTIONS = {
  target: "ES2022",
  lib: ["ES2023"],
  module: "NodeNext",
  moduleResolution: "NodeNext",
  customConditions: ["repid-source"],
  strict: true,
  verbatimModuleSyntax: true,
  skipLibCheck: true,
  types: ["node"],
  noEmit: true,
} as const;

/**
 * A fresh project folder in another place than this repository, as a user's would be: `repid`,
 * `zod` and `@types/node` linked into its node_modules, the given files and a tsconfig.json
 * with `compilerOptions`. Returns its path.
 */
export function tempProject(
  files: Readonly<Record<string, string>>,
  compilerOptions: Readonly<Record<string, unknown>> = BASE_OPTIONS,
): string {
  const dir = mkdtempSync(join(tmpdir(), "repid-types-"));
  mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules", "repid"), "dir");
  symlinkSync(join(ROOT, "node_modules", "zod"), join(dir, "node_modules", "zod"), "dir");
  symlinkSync(
    join(ROOT, "node_modules", "@types", "node"),
    join(dir, "node_modules", "@types", "node"),
    "dir",
  );
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "user-project", type: "module" }),
  );
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["*.ts"] }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

import { readFileSync } from "node:fs";
import { dirname, join, parse, relative } from "node:path";
import { CodegenError } from "repid";

/** Files that hold prettier's configuration (or shape it: .editorconfig), by prettier's rules. */
const CONFIG_FILES = [
  "package.json",
  "package.yaml",
  ".prettierrc",
  ".prettierrc.json",
  ".prettierrc.yaml",
  ".prettierrc.yml",
  ".prettierrc.json5",
  ".prettierrc.js",
  ".prettierrc.cjs",
  ".prettierrc.mjs",
  ".prettierrc.ts",
  ".prettierrc.cts",
  ".prettierrc.mts",
  ".prettierrc.toml",
  "prettier.config.js",
  "prettier.config.cjs",
  "prettier.config.mjs",
  "prettier.config.ts",
  "prettier.config.cts",
  "prettier.config.mts",
  ".editorconfig",
];

function readOrEmpty(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * What decides how prettier lays out `path`, read without loading prettier: the text of every
 * configuration file from the file's folder up to the root of the file system (a package.json
 * counts only through its "prettier" key), each named relative to the file, so the same checkout
 * in another folder has the same key. Part of the generated file's digest: a changed config
 * formats the file anew. prettier's version is not part of it (the digest keys on what the
 * project holds; a teammate's patch release of prettier does not make every file stale).
 */
export function prettierKey(path: string): string {
  const parts: string[] = [];
  const from = dirname(path);
  let dir = from;
  for (;;) {
    for (const name of CONFIG_FILES) {
      const text = readOrEmpty(join(dir, name));
      if (text === undefined) continue;
      if (name === "package.json") {
        const config = packagePrettierField(text);
        if (config !== undefined) parts.push(`${relative(from, join(dir, name))}\n${config}`);
      } else {
        parts.push(`${relative(from, join(dir, name))}\n${text}`);
      }
    }
    const up = dirname(dir);
    if (up === dir || dir === parse(dir).root) break;
    dir = up;
  }
  return parts.join("\n");
}

function packagePrettierField(text: string): string | undefined {
  try {
    const field = (JSON.parse(text) as { prettier?: unknown }).prettier;
    return field === undefined ? undefined : JSON.stringify(field);
  } catch {
    return undefined;
  }
}

/**
 * Formats generated TypeScript with prettier: the project's configuration for `path` when it
 * has one (`.prettierrc`, `prettier.config.*`, package.json's "prettier", `.editorconfig`), else
 * prettier's defaults. prettier loads on the first call only.
 */
export async function formatWithPrettier(text: string, path: string): Promise<string> {
  const prettier = await import("prettier");
  let config: Record<string, unknown> | null;
  try {
    config = await prettier.resolveConfig(path, { editorconfig: true, useCache: false });
  } catch (error) {
    throw new CodegenError(
      path,
      1,
      1,
      `cannot read the prettier configuration for this file: ${(error as Error).message}`,
    );
  }
  return prettier.format(text, { ...config, filepath: path, parser: "typescript" });
}

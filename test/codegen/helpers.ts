import { fileURLToPath } from "node:url";
import { Generator, type GenerateOptions } from "../../codegen/generate.js";

/** The repository root: fixtures import "repid", which resolves to it. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Options for a generator over `actors` (globs relative to the root). */
export function options(
  actors: string[],
  output: string,
  extra: Partial<GenerateOptions> = {},
): GenerateOptions {
  return {
    root: ROOT,
    actors,
    output,
    tsconfig: "tsconfig.json",
    allowAny: false,
    command: "npx repid-gen",
    ...extra,
  };
}

/** Renders the generated module text for `actors` without writing anything. */
export async function render(
  actors: string[],
  output: string,
  extra: Partial<GenerateOptions> = {},
): Promise<string> {
  const rendered = await new Generator(options(actors, output, extra)).render();
  return rendered.files[0]!.content;
}

import { readFile } from "node:fs/promises";
import { z } from "zod";
import { CodegenError } from "../src/errors.js";

/** The file `repid-gen` reads when no `--config` is given. */
export const DEFAULT_CONFIG_FILE = "repid.config.json";

/** Schema of `repid.config.json`. Paths are relative to the file's folder. */
export const configSchema = z.strictObject({
  /** Globs of the files that register actors; a leading `!` excludes. */
  actors: z.array(z.string().min(1)).min(1),
  /** The generated module. */
  output: z.string().min(1).endsWith(".ts"),
  /** @defaultValue "tsconfig.json" */
  tsconfig: z.string().min(1).default("tsconfig.json"),
  /** Accept `any` in actor signatures as `z.any()`. @defaultValue false */
  allowAny: z.boolean().default(false),
});

/** A validated configuration. */
export type GenConfig = z.output<typeof configSchema>;

/** Validates raw options (from the config file or the flags); `where` names their origin. */
export function parseConfig(raw: unknown, where: string): GenConfig {
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
  throw new CodegenError(where, 1, 1, `invalid repid-gen configuration: ${issues}`);
}

/** Reads and validates a config file; `undefined` when it does not exist. */
export async function readConfigFile(
  path: string,
  displayPath: string,
): Promise<GenConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CodegenError(displayPath, 1, 1, `not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, displayPath);
}

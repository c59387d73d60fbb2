import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { CodegenError } from "repid";

/** The file `repid-gen` reads when no `--config` is given. */
export const DEFAULT_CONFIG_FILE = "repid.config.json";

/**
 * Schema of `repid.config.json`. Paths are relative to the file's folder. Each key is also a
 * flag of the same name (`"out"` and `--out`), which overrides it.
 */
export const configSchema = z.strictObject({
  /** Globs of the files that register actors; a leading `!` excludes. */
  actors: z.array(z.string().min(1)).min(1),
  /** The generated module. */
  out: z.string().min(1).endsWith(".ts"),
  /** @defaultValue "tsconfig.json" */
  tsconfig: z.string().min(1).default("tsconfig.json"),
  /** Accept `any` in actor signatures as `z.any()`, with a warning. @defaultValue false */
  allowAny: z.boolean().default(false),
  /** Also write an AsyncAPI 3.0 document of the registry here (JSON, which is valid YAML). */
  asyncapi: z.string().min(1).optional(),
});

/**
 * The flags of `repid-gen`: one per configuration key, with the same name, plus the modes.
 * `--allow-any` is kept as another spelling of `--allowAny`.
 */
export const CLI_OPTIONS = {
  actors: { type: "string", multiple: true },
  out: { type: "string" },
  tsconfig: { type: "string" },
  allowAny: { type: "boolean" },
  "allow-any": { type: "boolean" },
  config: { type: "string" },
  force: { type: "boolean" },
  check: { type: "boolean" },
  watch: { type: "boolean" },
  asyncapi: { type: "string" },
  compat: { type: "string" },
  accept: { type: "string", multiple: true },
  cwd: { type: "string" },
  verbose: { type: "boolean" },
  version: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

/** A validated configuration. */
export interface GenConfig {
  readonly actors: readonly string[];
  /** The generated module (`out` in the file and on the command line). */
  readonly output: string;
  readonly tsconfig: string;
  readonly allowAny: boolean;
  /** Where to write the AsyncAPI document; none when absent. */
  readonly asyncapi?: string;
}

/**
 * Validates raw options (from the config file or the flags); `where` names their origin.
 * `output`, the key's former name, is still read.
 */
export function parseConfig(raw: unknown, where: string): GenConfig {
  let input = raw;
  if (raw !== null && typeof raw === "object" && "output" in raw) {
    const { output, ...rest } = raw as Record<string, unknown>;
    input = "out" in rest ? rest : { ...rest, out: output };
  }
  const parsed = configSchema.safeParse(input);
  if (parsed.success) {
    const { out, asyncapi, ...rest } = parsed.data;
    return { ...rest, output: out, ...(asyncapi === undefined ? {} : { asyncapi }) };
  }
  const issues = parsed.error.issues
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
  throw new CodegenError(where, 1, 1, `invalid repid-gen configuration: ${issues}`);
}

/** Reads and validates a config file; `undefined` when it does not exist. */
export async function readConfigFile(
  path: string,
  displayPath: string,
): Promise<Record<string, unknown> | undefined> {
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
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new CodegenError(displayPath, 1, 1, "invalid repid-gen configuration: not an object");
  return raw as Record<string, unknown>;
}

/**
 * A configuration as the file holds it: `out` for the output, keys at their default left out
 * (`tsconfig` is always written, to show which one was used).
 */
export function configRecord(config: GenConfig): Record<string, unknown> {
  return {
    actors: config.actors,
    out: config.output,
    tsconfig: config.tsconfig,
    ...(config.allowAny ? { allowAny: true } : {}),
    ...(config.asyncapi === undefined ? {} : { asyncapi: config.asyncapi }),
  };
}

/** The text of a config file: one key a line, a list on one line (as prettier lays it out). */
export function configText(record: Record<string, unknown>): string {
  const value = (v: unknown) =>
    Array.isArray(v) ? `[${v.map((e) => JSON.stringify(e)).join(", ")}]` : JSON.stringify(v);
  const entries = Object.entries(record).map(([k, v]) => `  ${JSON.stringify(k)}: ${value(v)}`);
  return `{\n${entries.join(",\n")}\n}\n`;
}

/**
 * Writes a config file holding `record`. Unless `overwrite`, an existing file is left alone
 * and the call throws a `CodegenError` at it.
 */
export async function writeConfigFile(
  path: string,
  displayPath: string,
  record: Record<string, unknown>,
  options: { readonly overwrite?: boolean } = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(path, configText(record), { flag: options.overwrite ? "w" : "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    throw new CodegenError(
      displayPath,
      1,
      1,
      "a repid-gen configuration already exists here; pass --force to overwrite it",
    );
  }
}

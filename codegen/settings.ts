import { dirname, isAbsolute, resolve } from "node:path";
import { CodegenError } from "repid";
import { DEFAULT_CONFIG_FILE, parseConfig, readConfigFile, type GenConfig } from "./config.js";
import { posixRelative } from "./scan/location.js";

/** The configuration flags of `repid-gen`, as parsed. */
export interface ConfigFlags {
  readonly actors?: readonly string[];
  readonly out?: string;
  readonly tsconfig?: string;
  readonly allowAny?: boolean;
  readonly asyncapi?: string;
  /** `--config`: the config file, relative to `cwd`. */
  readonly config?: string;
}

/** Where a run's configuration comes from, and what it is. */
export interface Settings {
  readonly config: GenConfig;
  /** The folder the configuration's paths are relative to: the config file's. */
  readonly root: string;
  /** The config file (absolute), read or, on a first run, to be written. */
  readonly configPath: string;
  /** `configPath` relative to `cwd`. */
  readonly configDisplay: string;
  /**
   * `"file"`: read from `configPath` (flags may override its keys). `"flags"`: no config file
   * yet, everything came from the flags: a first run, which may write `configPath`.
   */
  readonly origin: "file" | "flags";
  /** How to regenerate, for the banner: no flags, `--config` only for another file. */
  readonly command: string;
}

/** No config file, and not enough flags to run without one. */
export interface MissingConfig {
  readonly configDisplay: string;
  readonly missing: readonly ("--actors" | "--out")[];
}

/** The command that regenerates from the config file at `configPath`. */
export function regenerateCommand(cwd: string, configPath: string): string {
  return configPath === resolve(cwd, DEFAULT_CONFIG_FILE)
    ? "npx repid-gen"
    : `npx repid-gen --config ${posixRelative(cwd, configPath)}`;
}

/**
 * A path given on the command line (relative to `cwd`) as the config file at `root` says it:
 * relative to `root`; an absolute path stays absolute. A leading `!` (an excluding glob) stays.
 */
export function rebase(path: string, cwd: string, root: string): string {
  if (path.startsWith("!")) return `!${rebase(path.slice(1), cwd, root)}`;
  if (isAbsolute(path) || cwd === root) return path;
  return posixRelative(root, resolve(cwd, path)) || ".";
}

/**
 * The config file (`--config`, else the default, in `cwd`): absolute, relative to `cwd`, and
 * its folder.
 */
export function configLocation(
  config: string | undefined,
  cwd: string,
): { readonly configPath: string; readonly configDisplay: string; readonly root: string } {
  const configPath = resolve(cwd, config ?? DEFAULT_CONFIG_FILE);
  return { configPath, configDisplay: posixRelative(cwd, configPath), root: dirname(configPath) };
}

/** The config keys among `flags`, their paths relative to `root` (see `rebase`). */
function configOverrides(
  flags: ConfigFlags,
  cwd: string,
  root: string,
): Omit<ConfigFlags, "config"> {
  const path = (p: string) => rebase(p, cwd, root);
  return {
    ...(flags.actors?.length ? { actors: flags.actors.map(path) } : {}),
    ...(flags.out ? { out: path(flags.out) } : {}),
    ...(flags.tsconfig ? { tsconfig: path(flags.tsconfig) } : {}),
    ...(flags.allowAny ? { allowAny: true } : {}),
    ...(flags.asyncapi ? { asyncapi: path(flags.asyncapi) } : {}),
  };
}

/**
 * The configuration of a run: the config file (`--config`, else `repid.config.json` in `cwd`)
 * with the flags over it. Without a config file, the flags alone, which must name the actors
 * and the output: a first run. Throws `CodegenError` for an invalid file, or a `--config`
 * that names no file while the flags cannot stand alone.
 */
export async function resolveSettings(
  flags: ConfigFlags,
  cwd: string,
): Promise<Settings | MissingConfig> {
  const { configPath, configDisplay, root } = configLocation(flags.config, cwd);
  const fromFile = await readConfigFile(configPath, configDisplay);
  if (!fromFile && (!flags.actors?.length || !flags.out)) {
    if (flags.config !== undefined)
      throw new CodegenError(configDisplay, 1, 1, "config file not found");
    const missing = [
      ...(flags.actors?.length ? [] : (["--actors"] as const)),
      ...(flags.out ? [] : (["--out"] as const)),
    ];
    return { configDisplay, missing };
  }
  // Without a file, the flags' paths, and the default tsconfig, are relative to `cwd`.
  const tsconfig = fromFile ? {} : { tsconfig: rebase("tsconfig.json", cwd, root) };
  const config = parseConfig(
    { ...tsconfig, ...fromFile, ...configOverrides(flags, cwd, root) },
    fromFile ? configDisplay : "repid-gen flags",
  );
  return {
    config,
    root,
    configPath,
    configDisplay,
    origin: fromFile ? "file" : "flags",
    command: regenerateCommand(cwd, configPath),
  };
}

/** True when `resolveSettings` found no configuration. */
export function isMissing(result: Settings | MissingConfig): result is MissingConfig {
  return "missing" in result;
}

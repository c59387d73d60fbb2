/**
 * `repid-gen init`: writes a config file, its actor globs and output chosen by looking at the
 * project unless given.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, resolve } from "node:path";
import { GENERATED_MARKER } from "../templates/registry-module.js";
import { configRecord, writeConfigFile, type GenConfig } from "./config.js";
import { rebase } from "./settings.js";

/** The config `init` writes when it finds no actor file. */
export const DEFAULT_ACTORS = ["src/actors/**/*.ts"] as const;
export const DEFAULT_OUT = "src/generated/registry.ts";
const GENERATED_DIR = "generated/registry.ts";

/** What `detectProject` found: actor files and a config covering them (none found: undefined). */
export interface Detected {
  /** Actor files, relative to the root, POSIX, sorted. */
  readonly actorFiles: readonly string[];
  readonly actors: readonly string[] | undefined;
  readonly out: string | undefined;
}

const SOURCE = /\.([cm]?tsx?)$/;
const DECLARATION = /\.d\.[cm]?tsx?$/;
const TEST_FILE = /\.(test|spec)\.[cm]?tsx?$/;
/** Folders whose files are tests or fixtures: their actors are not the project's. */
const TEST_DIRS = new Set([
  "test",
  "tests",
  "__tests__",
  "spec",
  "fixtures",
  "__fixtures__",
  "e2e",
]);
const IMPORTS_REPID = /\bfrom\s*["']repid["']/;
const CALLS_ACTOR = /\.actor\s*(?:<[^()]*>\s*)?\(/;
/** Larger files are not hand-written actor files. */
const MAX_BYTES = 1 << 20;

/**
 * A cheap look for actor files: TypeScript files that import from "repid" and call `.actor(`,
 * outside node_modules, hidden folders, tests and generated files. Symbolic links are not
 * followed.
 */
function findActorFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const name = entry.name;
      const path = rel ? `${rel}/${name}` : name;
      if (entry.isDirectory()) {
        if (name === "node_modules" || name.startsWith(".") || TEST_DIRS.has(name)) continue;
        walk(join(dir, name), path);
      } else if (entry.isFile() && SOURCE.test(name)) {
        if (DECLARATION.test(name) || TEST_FILE.test(name)) continue;
        if (isActorFile(join(dir, name))) found.push(path);
      }
    }
  };
  walk(root, "");
  return found.sort();
}

function isActorFile(path: string): boolean {
  try {
    if (statSync(path).size > MAX_BYTES) return false;
    const text = readFileSync(path, "utf8");
    const firstLine = text.slice(0, text.indexOf("\n") >>> 0);
    return (
      !firstLine.includes(GENERATED_MARKER) && IMPORTS_REPID.test(text) && CALLS_ACTOR.test(text)
    );
  } catch {
    return false;
  }
}

/** The longest folder every file lies in ("" for the root). */
function commonFolder(files: readonly string[]): string {
  const folders = files.map((f) =>
    posix
      .dirname(f)
      .split("/")
      .filter((s) => s !== "."),
  );
  const first = folders[0] ?? [];
  let length = 0;
  while (length < first.length && folders.every((f) => f[length] === first[length])) length++;
  return first.slice(0, length).join("/");
}

/** `**\/*.<ext>` under `folder`, one glob per extension the files there have. */
function globsFor(folder: string, files: readonly string[]): string[] {
  const inside = files.filter((f) => folder === "" || f.startsWith(`${folder}/`));
  const extensions = [...new Set(inside.map((f) => SOURCE.exec(f)![1]!))].sort();
  const deep = inside.some((f) => f.slice(folder ? folder.length + 1 : 0).includes("/"));
  const prefix = folder ? `${folder}/` : "";
  return extensions.map((ext) => `${prefix}${folder === "" && !deep ? "" : "**/"}*.${ext}`);
}

/**
 * Finds the project's actor files under `root` and a config covering them: the folder they
 * share as `<folder>/**\/*.ts` (one glob per top folder when they share none), and the output
 * `<src root>/generated/registry.ts`, the src root being that folder up to its last `src`, else
 * the folder's parent, else `src` (or `givenOut`). When a glob covers the output, it is excluded.
 */
export function detectProject(root: string, givenOut?: string): Detected {
  const actorFiles = findActorFiles(root);
  if (actorFiles.length === 0) return { actorFiles, actors: undefined, out: undefined };
  const common = commonFolder(actorFiles);
  let actors: string[];
  if (common !== "") {
    actors = globsFor(common, actorFiles);
  } else {
    const tops = [...new Set(actorFiles.map((f) => (f.includes("/") ? f.split("/")[0]! : "")))];
    actors = tops.sort().flatMap((top) =>
      globsFor(
        top,
        actorFiles.filter((f) => (top === "" ? !f.includes("/") : f.startsWith(`${top}/`))),
      ),
    );
  }
  const segments = common === "" ? [] : common.split("/");
  const src = segments.lastIndexOf("src");
  const srcRoot = src >= 0 ? segments.slice(0, src + 1) : segments.slice(0, -1);
  const out =
    givenOut ?? (srcRoot.length > 0 ? `${srcRoot.join("/")}/${GENERATED_DIR}` : DEFAULT_OUT);
  if (actors.some((glob) => covers(glob, out))) actors.push(`!${out}`);
  return { actorFiles, actors, out };
}

/** True when `glob` (`<folder>/**\/*.<ext>` or `*.<ext>`, as `globsFor` writes) matches `path`. */
function covers(glob: string, path: string): boolean {
  const match = /^(?:(.*?)\/)?(\*\*\/)?\*\.(\w+)$/.exec(glob);
  if (!match) return false;
  const [, folder = "", deep, ext] = match;
  if (!path.endsWith(`.${ext}`)) return false;
  if (folder !== "" && !path.startsWith(`${folder}/`)) return false;
  return deep !== undefined || !path.slice(folder ? folder.length + 1 : 0).includes("/");
}

/**
 * What `init` is given: each key chosen by looking at the project when absent. Paths are
 * relative to `cwd`, as typed; the file records them relative to its own folder.
 */
export interface InitOptions {
  /** The project's folder, where actor files are looked for. */
  readonly cwd: string;
  /** The config file to write (absolute) and how to name it. */
  readonly configPath: string;
  readonly configDisplay: string;
  readonly actors?: readonly string[];
  readonly out?: string;
  readonly tsconfig?: string;
  readonly allowAny?: boolean;
  readonly asyncapi?: string;
  /** Overwrite an existing config file. @defaultValue false */
  readonly force?: boolean;
}

/** What `init` wrote. */
export interface InitResult {
  /** As written: paths relative to the config file's folder. */
  readonly config: GenConfig;
  /** Actor files found (empty when the actors were given, or none was found). */
  readonly actorFiles: readonly string[];
  /** The actors are the default ones: none were given, and no actor file was found. */
  readonly defaulted: boolean;
  /** The tsconfig named does not exist (yet). */
  readonly tsconfigMissing: boolean;
}

/**
 * Writes the config file of `options.configPath`. Throws a `CodegenError` when it exists and
 * `force` is not set.
 */
export async function initConfig(options: InitOptions): Promise<InitResult> {
  const needs = options.actors === undefined || options.out === undefined;
  const detected: Detected = needs
    ? detectProject(options.cwd, options.out)
    : { actorFiles: [], actors: undefined, out: undefined };
  const tsconfig = options.tsconfig ?? "tsconfig.json";
  const root = dirname(options.configPath);
  const path = (p: string) => rebase(p, options.cwd, root);
  const config: GenConfig = {
    actors: (options.actors ?? detected.actors ?? DEFAULT_ACTORS).map(path),
    output: path(options.out ?? detected.out ?? DEFAULT_OUT),
    tsconfig: path(tsconfig),
    allowAny: options.allowAny ?? false,
    ...(options.asyncapi === undefined ? {} : { asyncapi: path(options.asyncapi) }),
  };
  await writeConfigFile(options.configPath, options.configDisplay, configRecord(config), {
    overwrite: options.force ?? false,
  });
  return {
    config,
    actorFiles: detected.actorFiles,
    defaulted: options.actors === undefined && detected.actors === undefined,
    tsconfigMissing: !existsSync(resolve(options.cwd, tsconfig)),
  };
}

/**
 * `repid-gen`: generates the typed registry and producer client from actor files. This file
 * only parses arguments, prints, and calls `generate()`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  CLI_OPTIONS,
  DEFAULT_CONFIG_FILE,
  parseConfig,
  readConfigFile,
  type GenConfig,
} from "./config.js";
import { asyncApiDocument } from "./asyncapi.js";
import { loadPrevious, currentActors } from "./compat/previous.js";
import { compareRegistries, compatTable } from "./compat/report.js";
import { Generator, ScanFailure, type GenerateResult } from "./generate.js";
import { formatLocation, posixRelative } from "./scan/location.js";
import { watchFiles } from "./watch.js";

const HELP = `Usage: repid-gen [options]

Generates a typed registry, zod schemas and a producer client from repid actor files.
Reads ${DEFAULT_CONFIG_FILE} when present; each of its keys is also a flag of the same name,
which overrides it. Example: repid-gen --actors "src/actors/**/*.ts" --out src/generated/registry.ts

Options:
  --actors <glob>     actor files (repeatable; a leading ! excludes)         [config: "actors"]
  --out <file>        the generated module                                   [config: "out"]
  --tsconfig <file>   tsconfig used for type checking (default: tsconfig.json) [config: "tsconfig"]
  --allowAny          accept \`any\` in actor signatures as z.any(), with a warning [config: "allowAny"]
  --config <file>     config file (default: ${DEFAULT_CONFIG_FILE} if present)
  --check             do not write; exit 1 if the generated file is stale
  --watch             regenerate when actor files, or the files they import, change
  --asyncapi <file>   also write an AsyncAPI 3.0 document of the registry (JSON, valid YAML)
  --compat <registry|rev>  compare with a previous registry (a file, or a git revision of the
                      output file, or <rev>:<path>): print each change, both directions of a
                      rolling deploy, and exit 1 on a breaking change the actors do not handle
  --accept <actor>    with --compat: a removed, renamed or moved actor whose old queue is
                      drained (repeatable)
  --cwd <dir>         resolve paths from this folder (default: the current one)
  -v, --version       print the version
  -h, --help          show this help
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** The version in repid's package.json (from the sources, or from dist/ when built). */
function version(): string {
  for (const path of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "repid" && pkg.version) return pkg.version;
    } catch {
      // Not there: try the next place.
    }
  }
  return "unknown";
}

async function loadConfig(
  values: Record<string, unknown>,
  cwd: string,
): Promise<{ config: GenConfig; command: string }> {
  const configArg = typeof values["config"] === "string" ? values["config"] : undefined;
  const configFile = resolve(cwd, configArg ?? DEFAULT_CONFIG_FILE);
  const display = posixRelative(cwd, configFile);
  const fromFile = await readConfigFile(configFile, display);
  if (configArg && !fromFile) fail(`${display}:1:1: config file not found`);
  const allowAny = values["allowAny"] === true || values["allow-any"] === true;
  const flags = {
    ...(values["actors"] ? { actors: values["actors"] } : {}),
    ...(values["out"] ? { out: values["out"] } : {}),
    ...(values["tsconfig"] ? { tsconfig: values["tsconfig"] } : {}),
    ...(allowAny ? { allowAny: true } : {}),
  };
  if (!fromFile && (!flags.actors || !flags.out)) {
    const missing = [!flags.actors && "--actors", !flags.out && "--out"].filter(Boolean);
    fail(
      `repid-gen: no ${DEFAULT_CONFIG_FILE} in ${cwd}, and no ${missing.join(" or ")} given.\n\n${HELP}`,
    );
  }
  const config = parseConfig({ ...fromFile, ...flags }, fromFile ? display : "repid-gen flags");
  const parts = ["npx repid-gen"];
  if (configArg) parts.push(`--config ${display}`);
  if (flags.actors)
    for (const glob of config.actors) parts.push(`--actors ${JSON.stringify(glob)}`);
  if (flags.out) parts.push(`--out ${config.output}`);
  if (flags.tsconfig) parts.push(`--tsconfig ${config.tsconfig}`);
  if (flags.allowAny) parts.push("--allowAny");
  return { config, command: parts.join(" ") };
}

function report(result: GenerateResult, check: boolean): void {
  const t = result.timings;
  const total = t.load + t.scan + t.emit + t.write;
  const what = {
    written: `wrote ${result.output}`,
    unchanged: `${result.output} is up to date`,
    fresh: `${result.output} is up to date`,
    stale: `${result.output} is stale: run \`npx repid-gen\` to regenerate it`,
  }[result.outcome];
  process.stderr.write(
    `repid-gen: ${result.actors.length} actor(s) in ${result.files} file(s), ${Math.round(total)} ms ` +
      `(load ${Math.round(t.load)}, scan ${Math.round(t.scan)}, emit ${Math.round(t.emit)}, ${check ? "check" : "write"} ${Math.round(t.write)}); ${what}\n`,
  );
}

/** Prints an error as `file:line:col: message` lines; returns true when it was a known one. */
function printError(error: unknown): void {
  if (error instanceof ScanFailure) {
    for (const e of error.errors) process.stderr.write(`${e.message}\n`);
    process.stderr.write(`repid-gen: ${error.errors.length} error(s)\n`);
  } else if (error instanceof Error && (error as { code?: unknown }).code === "CODEGEN") {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `repid-gen: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
}

async function main(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: CLI_OPTIONS,
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    fail(`repid-gen: ${(error as Error).message}\n\n${HELP}`);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return;
  }
  const cwd = resolve(values.cwd ?? process.cwd());
  const check = values.check ?? false;
  let loaded;
  try {
    loaded = await loadConfig(values, cwd);
  } catch (error) {
    printError(error);
    process.exit(1);
  }
  const { config, command } = loaded;
  const generator = new Generator({ ...config, root: cwd, command });
  const runOnce = async (): Promise<boolean> => {
    try {
      const result = await generator.run({ check });
      for (const w of result.warnings)
        process.stderr.write(`${formatLocation(w.location)}: warning: ${w.message}\n`);
      report(result, check);
      if (values.asyncapi && !check) {
        const target = resolve(cwd, values.asyncapi);
        const doc = `${JSON.stringify(asyncApiDocument(result.model), null, 2)}\n`;
        writeFileSync(target, doc);
        process.stderr.write(`repid-gen: wrote ${posixRelative(cwd, target)} (AsyncAPI 3.0)\n`);
      }
      if (values.compat !== undefined) {
        const previous = loadPrevious(values.compat, cwd, config.output);
        const report = compareRegistries(previous, currentActors(result.model), {
          accept: values.accept ?? [],
        });
        process.stdout.write(compatTable(report, values.compat));
        if (!report.ok) return false;
      }
      return result.outcome !== "stale";
    } catch (error) {
      printError(error);
      return false;
    }
  };
  const ok = await runOnce();
  if (!values.watch) {
    process.exitCode = ok ? 0 : 1;
    return;
  }
  let running = Promise.resolve();
  const watching = watchFiles(
    {
      root: cwd,
      globs: config.actors,
      ignore: join(cwd, config.output),
      inputs: () => generator.inputs,
    },
    (paths) => {
      running = running.then(async () => {
        process.stderr.write(
          `repid-gen: changed ${paths.map((p) => posixRelative(cwd, p)).join(", ")}\n`,
        );
        generator.refresh(paths);
        await runOnce();
        watching.rewatch();
      });
    },
  );
  // Only now: a change saved after this line is seen.
  process.stderr.write("repid-gen: watching for changes (Ctrl+C to stop)\n");
}

await main(process.argv.slice(2));

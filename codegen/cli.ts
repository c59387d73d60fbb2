/**
 * `repid-gen`: generates the typed registry and producer client from actor files. This file
 * only parses arguments, prints, and calls `generate()` (or `initConfig()`).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  CLI_OPTIONS,
  DEFAULT_CONFIG_FILE,
  configRecord,
  writeConfigFile,
  type GenConfig,
} from "./config.js";
import { loadPrevious, currentActors } from "./compat/previous.js";
import { compareRegistries, compatTable } from "./compat/report.js";
import { Generator, ScanFailure, type GenerateResult } from "./generate.js";
import { initConfig } from "./init.js";
import { formatLocation, posixRelative } from "./scan/location.js";
import {
  configLocation,
  isMissing,
  regenerateCommand,
  resolveSettings,
  type ConfigFlags,
  type Settings,
} from "./settings.js";
import { packageVersion } from "./version.js";
import { watchFiles } from "./watch.js";

const HELP = `Usage: repid-gen [options]
       repid-gen init [--actors <glob>] [--out <file>] [--tsconfig <file>] [--force]

Generates a typed registry, zod schemas and a producer client from repid actor files.

Start with \`repid-gen init\`: it writes ${DEFAULT_CONFIG_FILE}, finding the actor files (files
that import "repid" and call .actor()) unless --actors and --out say where they are. Or run
repid-gen once with --actors and --out: that first run also writes ${DEFAULT_CONFIG_FILE},
recording the flags it used. Afterwards a plain \`repid-gen\` (and --check, --watch, --compat)
needs no flags.

${DEFAULT_CONFIG_FILE} keys (paths relative to the file's folder); each is also a flag of the
same name, which overrides it:
  "actors"   globs of the actor files
  "out"      the generated module
  "tsconfig" the tsconfig used for type checking (default: tsconfig.json)
  "allowAny" accept \`any\` in actor signatures (default: false)
  "asyncapi" also write an AsyncAPI document there (default: none)
Example: {"actors": ["src/actors/**/*.ts"], "out": "src/generated/registry.ts"}

Options:
  --actors <glob>     actor files (repeatable; a leading ! excludes)         [config: "actors"]
  --out <file>        the generated module                                   [config: "out"]
  --tsconfig <file>   tsconfig used for type checking (default: tsconfig.json) [config: "tsconfig"]
  --allowAny          accept \`any\` in actor signatures as z.any(), with a warning [config: "allowAny"]
  --asyncapi <file>   also write an AsyncAPI 3.0 document of the registry (JSON, valid YAML)
                      [config: "asyncapi"]
  --config <file>     config file (default: ${DEFAULT_CONFIG_FILE})
  --check             do not write; exit 1 if a generated file (the module, the AsyncAPI
                      document) is stale
  --watch             regenerate when actor files, or the files they import, change
  --compat <registry|rev>  compare with a previous registry (a file, or a git revision of the
                      output file, or <rev>:<path>): print each change, both directions of a
                      rolling deploy, and exit 1 on a breaking change the actors do not handle
  --accept <actor>    with --compat: a removed, renamed or moved actor whose old queue is
                      drained (repeatable)
  --force             with init: overwrite an existing config file
  --cwd <dir>         resolve paths from this folder (default: the current one)
  --verbose           also print the configuration used and each phase's time
  -v, --version       print the version
  -h, --help          show this help
`;

/** Flags that only `init` takes, and flags `init` rejects. */
const INIT_ONLY = ["force"] as const;
const NOT_WITH_INIT = ["check", "watch", "compat", "accept"] as const;

type Values = ReturnType<typeof parse>["values"];

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: CLI_OPTIONS, strict: true, allowPositionals: true });
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const say = (line: string) => process.stderr.write(`repid-gen: ${line}\n`);
const ms = (n: number) => `${Math.round(n)} ms`;

function configFlags(values: Values): ConfigFlags {
  return {
    ...(values.actors ? { actors: values.actors } : {}),
    ...(values.out ? { out: values.out } : {}),
    ...(values.tsconfig ? { tsconfig: values.tsconfig } : {}),
    ...(values.allowAny || values["allow-any"] ? { allowAny: true } : {}),
    ...(values.asyncapi ? { asyncapi: values.asyncapi } : {}),
    ...(values.config !== undefined ? { config: values.config } : {}),
  };
}

/** The config flags as given, quoted for a shell: they belong in the command that regenerates. */
function flagArgs(flags: ConfigFlags): string[] {
  return [
    ...(flags.actors ?? []).flatMap((glob) => ["--actors", JSON.stringify(glob)]),
    ...(flags.out ? ["--out", flags.out] : []),
    ...(flags.tsconfig ? ["--tsconfig", flags.tsconfig] : []),
    ...(flags.allowAny ? ["--allowAny"] : []),
    ...(flags.asyncapi ? ["--asyncapi", flags.asyncapi] : []),
  ];
}

function describeConfig(config: GenConfig): string {
  return [
    `actors ${config.actors.map((g) => JSON.stringify(g)).join(" ")}`,
    `out ${config.output}`,
    `tsconfig ${config.tsconfig}`,
    ...(config.allowAny ? ["allowAny"] : []),
    ...(config.asyncapi ? [`asyncapi ${config.asyncapi}`] : []),
  ].join(", ");
}

function report(result: GenerateResult, check: boolean, command: string, verbose: boolean): void {
  const t = result.timings;
  const total = t.load + t.scan + t.emit + t.format + t.write;
  const what = (output: string, outcome: GenerateResult["outcome"]) =>
    ({
      written: `wrote ${output}`,
      unchanged: `${output} is up to date`,
      fresh: `${output} is up to date`,
      stale: `${output} is stale: run \`${command}\` to regenerate it`,
    })[outcome];
  const outcomes = [what(result.output, result.outcome)];
  if (result.asyncapi) outcomes.push(what(result.asyncapi.output, result.asyncapi.outcome));
  if (verbose) {
    say(
      `load ${ms(t.load)}, scan ${ms(t.scan)}, emit ${ms(t.emit)}, format ${ms(t.format)}, ` +
        `${check ? "check" : "write"} ${ms(t.write)}`,
    );
  }
  say(
    `${result.actors.length} actor(s) in ${result.files} file(s), ${ms(total)}; ${outcomes.join("; ")}`,
  );
}

/** Prints an error as `file:line:col: message` lines. */
function printError(error: unknown): void {
  if (error instanceof ScanFailure) {
    for (const e of error.errors) process.stderr.write(`${e.message}\n`);
    say(`${error.errors.length} error(s)`);
  } else if (error instanceof Error && (error as { code?: unknown }).code === "CODEGEN") {
    process.stderr.write(`${error.message}\n`);
  } else {
    say(
      `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
}

async function init(values: Values, cwd: string): Promise<void> {
  const wrong = NOT_WITH_INIT.filter((name) => values[name] !== undefined);
  if (wrong.length) fail(`repid-gen: init does not take --${wrong.join(", --")}\n\n${HELP}`);
  const { configPath, configDisplay } = configLocation(values.config, cwd);
  const result = await initConfig({
    cwd,
    configPath,
    configDisplay,
    ...configFlags(values),
    ...(values.force ? { force: true } : {}),
  });
  const c = result.config;
  const found = result.defaulted
    ? ""
    : result.actorFiles.length
      ? ` (${result.actorFiles.length} actor ${result.actorFiles.length === 1 ? "file" : "files"} found)`
      : "";
  const written =
    `wrote ${configDisplay}: actors ${c.actors.map((g) => JSON.stringify(g)).join(" ")}${found}, ` +
    `out ${c.output}, tsconfig ${c.tsconfig}${c.asyncapi ? `, asyncapi ${c.asyncapi}` : ""}`;
  const next = `run \`${regenerateCommand(cwd, configPath)}\` to generate`;
  say(
    result.defaulted
      ? `no actor files found (files that import "repid" and call .actor(), outside node_modules and tests); ${written} (the defaults): move your actors there or edit it, then ${next}`
      : `${written}; ${next}`,
  );
  if (result.tsconfigMissing)
    say(`${c.tsconfig} does not exist: create it, or set "tsconfig" in ${configDisplay}`);
}

async function generate(values: Values, cwd: string): Promise<void> {
  const check = values.check ?? false;
  const verbose = values.verbose ?? false;
  let settings: Settings;
  try {
    const resolved = await resolveSettings(configFlags(values), cwd);
    if (isMissing(resolved)) {
      const too = resolved.missing.length < 2 ? " too" : "";
      fail(
        `repid-gen: no ${resolved.configDisplay} in ${cwd}: run \`npx repid-gen init\` to write one, ` +
          `or pass ${resolved.missing.join(" and ")}${too} (a first run with --actors and --out writes it).\n\n${HELP}`,
      );
    }
    settings = resolved;
  } catch (error) {
    printError(error);
    process.exit(1);
  }
  const { config, root, command } = settings;
  // What to run when a file is stale: the banner's command with this run's config flags.
  const rerun = [command, ...flagArgs(configFlags(values))].join(" ");
  if (verbose)
    say(
      `${settings.origin === "file" ? `config ${settings.configDisplay}` : "flags"}: ${describeConfig(config)}`,
    );
  const generator = new Generator({ ...config, root, command });
  let firstRun = settings.origin === "flags" && !check;
  const runOnce = async (): Promise<boolean> => {
    try {
      const result = await generator.run({ check });
      for (const w of result.warnings)
        process.stderr.write(`${formatLocation(w.location)}: warning: ${w.message}\n`);
      report(result, check, rerun, verbose);
      if (firstRun) {
        firstRun = false;
        await writeConfigFile(settings.configPath, settings.configDisplay, configRecord(config));
        say(
          `wrote ${settings.configDisplay} (${describeConfig(config)}): from now on \`${command}\` needs no flags`,
        );
      }
      let ok = result.outcome !== "stale" && result.asyncapi?.outcome !== "stale";
      if (values.compat !== undefined) {
        const previous = loadPrevious(values.compat, cwd, resolve(root, config.output));
        const compat = compareRegistries(previous, currentActors(result.model), {
          accept: values.accept ?? [],
        });
        process.stdout.write(compatTable(compat, values.compat));
        ok &&= compat.ok;
      }
      return ok;
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
      root,
      globs: config.actors,
      ignore: resolve(root, config.output),
      inputs: () => generator.inputs,
    },
    (paths) => {
      running = running.then(async () => {
        say(`changed ${paths.map((p) => posixRelative(cwd, p)).join(", ")}`);
        generator.refresh(paths);
        await runOnce();
        watching.rewatch();
      });
    },
  );
  // Only now: a change saved after this line is seen.
  say("watching for changes (Ctrl+C to stop)");
}

async function main(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    fail(`repid-gen: ${(error as Error).message}\n\n${HELP}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(`${packageVersion(import.meta.url)}\n`);
    return;
  }
  const [command, ...rest] = positionals;
  if ((command !== undefined && command !== "init") || rest.length > 0)
    fail(`repid-gen: unknown command "${positionals.join(" ")}"\n\n${HELP}`);
  const cwd = resolve(values.cwd ?? process.cwd());
  if (command === "init") {
    try {
      await init(values, cwd);
    } catch (error) {
      printError(error);
      process.exitCode = 1;
    }
    return;
  }
  const initOnly = INIT_ONLY.filter((name) => values[name] !== undefined);
  if (initOnly.length) fail(`repid-gen: --${initOnly.join(", --")} only goes with init\n\n${HELP}`);
  await generate(values, cwd);
}

await main(process.argv.slice(2));

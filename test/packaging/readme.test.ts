/**
 * Every code block of the README, run as written, in README order, in one new project that
 * installed the packed tarballs (`packed()`, `newProject()`: offline, TypeScript 7).
 *
 * The conventions (CONTRIBUTING.md, "The README's snippets"):
 * - ```ts: a block opening with `// file: <path>` is written at that path; any other is written as
 *   `src/readme-<n>.ts` (n counts the README's ts blocks from 1) and run with
 *   `node dist/readme-<n>.js` after the project's `tsc -p .` compiled it.
 * - ```sh: run line by line (`bash -c <line>`) in the project. `npm install` and `npm init`
 *   lines say how the project was set up: every package named in any `npm install` line of the
 *   README is installed before the first block runs (`typescript` is TypeScript 7). `export`
 *   lines of the variables the test provides (REDIS_URL, RABBITMQ_URL, POSTGRES_URL) are
 *   skipped. Every other line runs as written and must exit 0. A line ending in `# runs until Ctrl-C` is started in
 *   the background and must be the last of its block; after the next block ran, it gets a
 *   Ctrl-C (SIGINT to its process group, as a terminal sends it) and must exit 0 (or by that
 *   SIGINT).
 * - a ```sh block whose first line is `# in a clone of this repository` is for contributors: it
 *   is not run here; its `npm run <script>`s must exist in package.json.
 * - ```text, ```json, ```yaml: not run. Any other tag fails the test.
 *
 * Redis blocks run on 127.0.0.1:6379, in a database of their own (REDIS_URL ends in /<db>): the
 * README's services use the default key prefix, and so does the `repid` command. The test holds
 * a lock while it runs (so runs of this test do not meet on Redis or RabbitMQ), picks an empty
 * database, and deletes every key it wrote there, and the RabbitMQ queues, afterwards.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { connect } from "amqplib";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteTopology, queueNames, type Task } from "../../src/brokers/rabbitmq/topology.js";
import { describeRedis, REDIS_URL } from "../brokers/redis-env.js";
import { describeRabbit, RABBITMQ_URL } from "../brokers/rabbitmq-env.js";
import { scratchDatabase } from "../brokers/postgres-env.js";
import {
  newProject,
  packed,
  removeProjects,
  ROOT,
  type Dependency,
  type Tarballs,
} from "./packages.js";

// ---------------------------------------------------------------------------------------------
// Blocks

interface Block {
  /** 1-based, over every fenced block of the document. */
  readonly n: number;
  /** Line of the opening fence (1-based). */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
}

/** The fenced code blocks of a markdown document, in order. */
function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i === lines.length) throw new Error(`line ${start + 1}: unclosed code block`);
    blocks.push({
      n: blocks.length + 1,
      line: start + 1,
      lang: open[1]!.toLowerCase(),
      code: `${body.join("\n")}\n`,
    });
  }
  return blocks;
}

const TS = new Set(["ts", "typescript"]);
const SH = new Set(["sh", "bash", "shell"]);
const NOT_RUN = new Set(["text", "json", "yaml"]);
const CONTRIBUTOR = /^# in a clone of this repository\b/;
const BACKGROUND = /\s#\s*runs until Ctrl-C\s*$/;
const SETUP = /^npm (install|i|init)\b/;
/** Variables the test sets itself: `export` lines of them are skipped. */
const PROVIDED = new Set(["REDIS_URL", "RABBITMQ_URL", "POSTGRES_URL"]);

interface ShLine {
  readonly text: string;
  /** README line. */
  readonly line: number;
  readonly background: boolean;
}

/** A sh block's commands: continuation lines joined, blank and comment lines dropped. */
function shLines(block: Block): ShLine[] {
  const out: ShLine[] = [];
  const raw = block.code.replace(/\n$/, "").split("\n");
  for (let i = 0; i < raw.length; i++) {
    const line = block.line + 1 + i;
    let text = raw[i]!;
    while (text.endsWith("\\") && i + 1 < raw.length) text = `${text.slice(0, -1)} ${raw[++i]}`;
    if (text.trim() === "" || text.trim().startsWith("#")) continue;
    out.push({ text: text.trim(), line, background: BACKGROUND.test(text) });
  }
  return out;
}

function tsFile(block: Block, ordinal: number): { file: string; standalone: boolean } {
  const named = /^\/\/ file: (\S+)\s*\n/.exec(block.code)?.[1];
  return named
    ? { file: named, standalone: false }
    : { file: `src/readme-${ordinal}.ts`, standalone: true };
}

// ---------------------------------------------------------------------------------------------
// The project: what the README's npm lines install

interface Setup {
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}

/** Every package named in an `npm install` line, by kind (`--save-dev`/`-D`: development). */
function readSetup(blocks: readonly Block[]): Setup {
  const dependencies: Record<string, string> = {};
  const devDependencies: Record<string, string> = {};
  for (const block of blocks) {
    if (!SH.has(block.lang) || CONTRIBUTOR.test(block.code)) continue;
    for (const { text, line } of shLines(block)) {
      const install = /^npm (?:install|i)\b(.*)$/.exec(text);
      if (!install) continue;
      const words = install[1]!
        .replace(/\s#.*$/, "")
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      const dev = words.some((w) => w === "--save-dev" || w === "-D");
      const names = words.filter((w) => !w.startsWith("-"));
      if (names.length === 0) throw new Error(`README line ${line}: \`${text}\` names no package`);
      for (const spec of names) {
        const at = spec.lastIndexOf("@");
        const name = at > 0 ? spec.slice(0, at) : spec;
        (dev ? devDependencies : dependencies)[name] = `README line ${line}`;
      }
    }
  }
  return { dependencies, devDependencies };
}

/** Where each package comes from: the tarballs, TypeScript 7, the rest from this repository's lock. */
function sources(names: Record<string, string>, tarballs: Tarballs): Record<string, Dependency> {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(names).map(([name, where]) => {
      if (name === "repid" || name === "repid-gen" || name === "repid-contract") {
        return [name, tarballs[name]];
      }
      const path = name === "typescript" ? "node_modules/typescript-7" : `node_modules/${name}`;
      if (!lock.packages[path]) throw new Error(`${where}: ${name} is not in package-lock.json`);
      return [name, path];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Running

/** What a user's shell has: none of npm's or vitest's variables, no repository bin on PATH. */
function userShell(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|INIT_CWD$|NODE_ENV$|NODE_OPTIONS$|TEST$)/.test(key)) continue;
    env[key] = value;
  }
  env["PATH"] = (process.env["PATH"] ?? "")
    .split(delimiter)
    .filter((dir) => !dir.includes("node_modules") && !dir.startsWith(ROOT))
    .join(delimiter);
  return {
    ...env,
    // Nothing may come from the registry: npx finds the project's own bins or fails.
    npm_config_offline: "true",
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
    ...extra,
  };
}

/** An expectation on what one command or one TypeScript block prints. */
interface Expectation {
  /** A sh line that contains this text, or a TypeScript block that contains it. */
  readonly in: string;
  readonly stdout?: RegExp;
  readonly stderr?: RegExp;
  /** For a command that runs until Ctrl-C: wait until its output matches before going on. */
  readonly ready?: RegExp;
  /** For a command that runs until Ctrl-C: checked while it runs (after `ready`). */
  readonly whileRunning?: () => Promise<void>;
}

interface RunOptions {
  /** The installed project. */
  readonly dir: string;
  readonly env?: Record<string, string>;
  readonly expectations?: readonly Expectation[];
  /** The document's name in messages. */
  readonly name?: string;
  /** Per command. */
  readonly timeoutMs?: number;
}

interface RunReport {
  readonly blocks: number;
  readonly tsBlocks: number;
  readonly tsRun: number;
  readonly shBlocks: number;
  readonly commands: number;
  readonly background: number;
  readonly notRun: number;
  readonly compiles: number;
  readonly log: readonly string[];
}

interface Output {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function exec(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      stderr += `\n[killed after ${timeoutMs} ms]`;
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

class Background {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #done = false;

  constructor(
    readonly command: ShLine,
    cwd: string,
    env: NodeJS.ProcessEnv,
  ) {
    // Its own process group, as a terminal's foreground job: Ctrl-C reaches every process of it.
    this.child = spawn("bash", ["-c", command.text], {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code, signal) => {
        this.#done = true;
        resolve({ code, signal });
      }),
    );
  }

  get done(): boolean {
    return this.#done;
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<boolean> {
    for (let waited = 0; waited < timeoutMs; waited += 100) {
      if (pattern.test(this.stdout + this.stderr)) return true;
      if (this.#done) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  /** Ctrl-C; SIGKILL after `graceMs`. */
  async interrupt(
    graceMs: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
    if (this.#done) return { ...(await this.exited), killed: false };
    try {
      process.kill(-this.child.pid!, "SIGINT");
    } catch {
      // Gone already.
    }
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs));
    const first = await Promise.race([this.exited, timeout]);
    if (first !== "timeout") return { ...first, killed: false };
    try {
      process.kill(-this.child.pid!, "SIGKILL");
    } catch {
      // Gone already.
    }
    return { ...(await this.exited), killed: true };
  }
}

class SnippetError extends Error {
  override name = "SnippetError";
}

/** The .ts files of a project (not node_modules, not dist) with their sizes and times. */
function snapshot(dir: string): string {
  const entries: string[] = [];
  const walk = (at: string, rel: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith("."))
        continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path, `${rel}${entry.name}/`);
      else if (entry.name.endsWith(".ts")) {
        const s = statSync(path);
        entries.push(`${rel}${entry.name}:${s.size}:${s.mtimeMs}`);
      }
    }
  };
  walk(dir, "");
  return entries.sort().join("\n");
}

/**
 * Runs a markdown document's code blocks in order in an installed project (see the file's
 * comment for the conventions). Throws a `SnippetError` naming the block, its line and what it
 * printed at the first block that does not run as written or prints something unexpected.
 */
async function runMarkdown(markdown: string, options: RunOptions): Promise<RunReport> {
  const name = options.name ?? "README.md";
  const { dir } = options;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const env = userShell(options.env ?? {});
  const blocks = codeBlocks(markdown);
  const expectations = options.expectations ?? [];
  const log: string[] = [];
  const fail = (block: Block, line: number, what: string): never => {
    throw new SnippetError(`${name}:${line} (block ${block.n}, \`\`\`${block.lang}): ${what}`);
  };
  const shown = (o: { stdout: string; stderr: string }) =>
    `\n--- stdout\n${o.stdout.trimEnd()}\n--- stderr\n${o.stderr.trimEnd()}`;

  // Which expectation goes with which command or block: each matches exactly one.
  let tsOrdinal = 0;
  const tsBlocks = new Map<Block, { file: string; standalone: boolean }>();
  for (const block of blocks) {
    if (TS.has(block.lang)) tsBlocks.set(block, tsFile(block, ++tsOrdinal));
    else if (!SH.has(block.lang) && !NOT_RUN.has(block.lang)) {
      fail(
        block,
        block.line,
        `unknown tag "${block.lang}": use ts, sh, or text/json/yaml for what is not run`,
      );
    }
  }
  const units: { key: string; text: string }[] = [];
  for (const block of blocks) {
    if (TS.has(block.lang) && tsBlocks.get(block)!.standalone)
      units.push({ key: `b${block.n}`, text: block.code });
    if (SH.has(block.lang) && !CONTRIBUTOR.test(block.code)) {
      for (const l of shLines(block)) units.push({ key: `l${l.line}`, text: l.text });
    }
  }
  const expectationOf = new Map<string, Expectation>();
  for (const e of expectations) {
    const matches = units.filter((u) => u.text.includes(e.in));
    if (matches.length !== 1) {
      throw new SnippetError(
        `${name}: the expectation for "${e.in}" matches ${matches.length} commands or run blocks (it must match one)`,
      );
    }
    expectationOf.set(matches[0]!.key, e);
  }
  const check = (
    block: Block,
    line: number,
    key: string,
    out: { stdout: string; stderr: string },
  ) => {
    const e = expectationOf.get(key);
    if (e?.stdout && !e.stdout.test(out.stdout))
      fail(block, line, `stdout does not match ${e.stdout}${shown(out)}`);
    if (e?.stderr && !e.stderr.test(out.stderr))
      fail(block, line, `stderr does not match ${e.stderr}${shown(out)}`);
  };

  let compiled: string | undefined;
  let compiles = 0;
  let tsRun = 0;
  let commands = 0;
  let backgrounds = 0;
  let pending: Background | undefined;
  let pendingBlock: Block | undefined;
  const written = new Set<string>();

  const compile = async (block: Block): Promise<void> => {
    const now = snapshot(dir);
    if (now === compiled) return;
    compiles++;
    const out = await exec(join(dir, "node_modules/.bin/tsc"), ["-p", "."], dir, env, timeoutMs);
    if (out.code !== 0) {
      // Point at the README lines of the errors in files the blocks wrote.
      const errors = `${out.stdout}${out.stderr}`.split("\n").filter(Boolean);
      const located = errors.map((e) => {
        const m = /^(\S+?)\((\d+),(\d+)\): (.*)$/.exec(e);
        const owner = m && [...tsBlocks].findLast(([b, t]) => t.file === m[1] && b.n <= block.n);
        return owner ? `${name}:${owner[0].line + Number(m[2])} (${m[1]}): ${m[4]}` : e;
      });
      fail(block, block.line, `tsc -p . failed:\n${located.join("\n")}`);
    }
    compiled = snapshot(dir);
  };

  const stop = async (): Promise<void> => {
    if (!pending) return;
    const bg = pending;
    const block = pendingBlock!;
    pending = undefined;
    if (bg.done) {
      const { code, signal } = await bg.exited;
      fail(
        block,
        bg.command.line,
        `\`${bg.command.text}\` ended before Ctrl-C (code ${code}, signal ${signal})${shown(bg)}`,
      );
    }
    const end = await bg.interrupt(30_000);
    log.push(`  Ctrl-C: ${bg.command.text} -> ${end.code ?? end.signal}`);
    if (end.killed)
      fail(
        block,
        bg.command.line,
        `\`${bg.command.text}\` did not stop within 30 s of Ctrl-C${shown(bg)}`,
      );
    if (!(end.code === 0 || end.code === 130 || end.signal === "SIGINT")) {
      fail(
        block,
        bg.command.line,
        `\`${bg.command.text}\` exited ${end.code ?? end.signal} after Ctrl-C${shown(bg)}`,
      );
    }
    check(block, bg.command.line, `l${bg.command.line}`, bg);
  };

  try {
    for (let index = 0; index < blocks.length; index++) {
      const block = blocks[index]!;
      const stopAfter = pending;
      if (NOT_RUN.has(block.lang)) {
        log.push(`block ${block.n} (${name}:${block.line}) ${block.lang}: not run`);
        continue;
      }
      if (TS.has(block.lang)) {
        // This block and the ts blocks right after it are written before compiling, so that
        // one `tsc -p .` serves them all (a second block for the same file ends the batch).
        const batch: Block[] = [];
        const paths = new Set<string>();
        for (let j = index; j < blocks.length && TS.has(blocks[j]!.lang); j++) {
          const file = tsBlocks.get(blocks[j]!)!.file;
          if (paths.has(file)) break;
          paths.add(file);
          batch.push(blocks[j]!);
        }
        for (const b of batch) {
          const { file } = tsBlocks.get(b)!;
          mkdirSync(dirname(join(dir, file)), { recursive: true });
          writeFileSync(join(dir, file), b.code);
          written.add(file);
          log.push(`block ${b.n} (${name}:${b.line}) ts: wrote ${file}`);
        }
        for (const b of batch) {
          const { file, standalone } = tsBlocks.get(b)!;
          if (!standalone) continue;
          await compile(b);
          const js = file.replace(/^src\//, "dist/").replace(/\.ts$/, ".js");
          const started = Date.now();
          const out = await exec("node", [js], dir, env, timeoutMs);
          tsRun++;
          log.push(`  node ${js}: exit ${out.code ?? out.signal} in ${Date.now() - started} ms`);
          if (out.code !== 0)
            fail(b, b.line, `\`node ${js}\` exited ${out.code ?? out.signal}${shown(out)}`);
          check(b, b.line, `b${b.n}`, out);
        }
        index += batch.length - 1;
      } else if (CONTRIBUTOR.test(block.code)) {
        const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
          scripts: Record<string, string>;
        };
        for (const m of block.code.matchAll(/npm run ([\w:-]+)/g)) {
          if (!pkg.scripts[m[1]!]) fail(block, block.line, `no script "${m[1]}" in package.json`);
        }
        log.push(`block ${block.n} (${name}:${block.line}) sh: for contributors, not run`);
        continue;
      } else {
        const lines = shLines(block);
        for (const [k, l] of lines.entries()) {
          if (SETUP.test(l.text)) {
            log.push(`${name}:${l.line} $ ${l.text}   (setup: done before the first block)`);
            continue;
          }
          const exported = /^export (\w+)=/.exec(l.text);
          if (exported) {
            if (!PROVIDED.has(exported[1]!))
              fail(block, l.line, `only ${[...PROVIDED].join(", ")} may be exported`);
            log.push(`${name}:${l.line} $ ${l.text}   (skipped: the test sets ${exported[1]})`);
            continue;
          }
          commands++;
          if (l.background) {
            if (k !== lines.length - 1)
              fail(block, l.line, "a command that runs until Ctrl-C must be its block's last line");
            backgrounds++;
            pending = new Background(l, dir, env);
            pendingBlock = block;
            log.push(`${name}:${l.line} $ ${l.text}   (in the background)`);
            const e = expectationOf.get(`l${l.line}`);
            if (e?.ready && !(await pending.waitFor(e.ready, 60_000))) {
              fail(block, l.line, `\`${l.text}\` did not print ${e.ready}${shown(pending)}`);
            }
            if (e?.whileRunning) {
              await e.whileRunning().catch((error: unknown) => {
                fail(block, l.line, `while \`${l.text}\` ran: ${String(error)}${shown(pending!)}`);
              });
            }
            continue;
          }
          const started = Date.now();
          const out = await exec("bash", ["-c", l.text], dir, env, timeoutMs);
          log.push(
            `${name}:${l.line} $ ${l.text}   (exit ${out.code ?? out.signal} in ${Date.now() - started} ms)`,
          );
          if (out.code !== 0)
            fail(block, l.line, `\`${l.text}\` exited ${out.code ?? out.signal}${shown(out)}`);
          check(block, l.line, `l${l.line}`, out);
          if (/^npx tsc(\s|$)/.test(l.text) && !/--init/.test(l.text)) compiled = snapshot(dir);
        }
      }
      if (stopAfter) await stop();
    }
    await stop();
  } finally {
    if (pending) await pending.interrupt(5_000);
  }
  return {
    blocks: blocks.length,
    tsBlocks: tsBlocks.size,
    tsRun,
    shBlocks: blocks.filter((b) => SH.has(b.lang)).length,
    commands,
    background: backgrounds,
    notRun: blocks.filter((b) => NOT_RUN.has(b.lang)).length,
    compiles,
    log,
  };
}

// ---------------------------------------------------------------------------------------------
// Redis and RabbitMQ for the README's services

/** Held while the README runs, so that two runs of this test do not meet. */
const LOCK = "repid-readme-test:lock";
/** Written in the database a run uses, so that a crashed run's keys are known as such. */
const OWNER = "repid-readme-test:owner";
/** The RabbitMQ queues the README declares (default prefix "repid"). */
const RABBIT_QUEUES = ["reports"];

function dbUrl(db: number): string {
  const url = new URL(REDIS_URL);
  url.pathname = `/${db}`;
  return url.toString();
}

async function deleteAll(client: Redis): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "COUNT", 1000);
    cursor = next;
    if (keys.length) await client.unlink(...keys);
  } while (cursor !== "0");
}

/** Takes the lock and an empty database (or one a crashed run of this test left). */
async function claimDatabase(): Promise<{ db: number; release: () => Promise<void> }> {
  const admin = new Redis(dbUrl(0));
  const token = randomUUID();
  // A short expiry, renewed while this run lasts: a killed run holds the lock a minute at most.
  for (let waited = 0; ; waited += 1000) {
    if ((await admin.set(LOCK, token, "PX", 60_000, "NX")) === "OK") break;
    if (waited > 200_000) throw new Error(`${LOCK} held for 200 s: another run of this test?`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const renew = setInterval(() => void admin.pexpire(LOCK, 60_000).catch(() => {}), 15_000);
  for (let db = 15; db >= 1; db--) {
    const client = new Redis(dbUrl(db));
    const size = await client.dbsize();
    if (size === 0 || (await client.exists(OWNER))) {
      await deleteAll(client);
      await client.set(OWNER, token);
      return {
        db,
        release: async () => {
          clearInterval(renew);
          await deleteAll(client);
          client.disconnect();
          if ((await admin.get(LOCK)) === token) await admin.del(LOCK);
          admin.disconnect();
        },
      };
    }
    client.disconnect();
  }
  clearInterval(renew);
  await admin.del(LOCK);
  admin.disconnect();
  throw new Error("no empty Redis database among 1-15 for the README's services");
}

async function deleteRabbitQueues(): Promise<void> {
  const model = await connect(RABBITMQ_URL);
  try {
    const channel = await model.createChannel();
    const run = async (tasks: readonly Task[]) => {
      for (const task of tasks) await task(channel);
    };
    for (const queue of RABBIT_QUEUES) await deleteTopology(run, queueNames("repid", queue));
  } finally {
    await model.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The README

const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The ```text block right after the sh block that runs `command`: the output the README shows. */
function shownOutput(markdown: string, command: string): RegExp {
  const blocks = codeBlocks(markdown);
  const at = blocks.findIndex(
    (b) => SH.has(b.lang) && shLines(b).some((l) => l.text.startsWith(command)),
  );
  const next = blocks[at + 1];
  if (at < 0 || next?.lang !== "text") throw new Error(`no \`\`\`text block after \`${command}\``);
  return new RegExp(`^${next.code.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

/** What the README's commands and snippets print (every block must also exit 0). */
const EXPECTATIONS: readonly Expectation[] = [
  { in: "npx tsc --init", stdout: /Created a new tsconfig\.json/ },
  {
    in: 'npx repid-gen --actors "src/actors/**/*.ts"',
    stderr: /2 actor\(s\) in 1 file\(s\).*wrote src\/generated\/registry\.ts/,
  },
  { in: "npx repid-gen --check", stderr: /is up to date/ },
  { in: "npx repid-gen --watch", ready: /watching for changes/ },
  { in: "node dist/main.js", stdout: /^sent [0-9a-f-]+: 16 bytes\n25 primes below 100\n$/ },
  { in: "node dist/worker.js", stdout: /^worker stopped after 1 jobs\n$/ },
  { in: "node dist/producer.js", stdout: /^sent [0-9a-f-]+\n$/ },
  {
    in: 'console.log("Hello from an actor!")',
    stdout: /^Hello from an actor!\nTotal actor runs: 1\n$/,
  },
  { in: 'id: "report-2026-11-28"', stdout: /^false\n[0-9a-f-]+\nfalse\n$/ },
  { in: "async function cleanup()", stdout: /^3\n$/ },
  { in: "resize_image", stdout: /processed: 1,\s+succeeded: 1/ },
  { in: "redis://127.0.0.1:7101,redis://127.0.0.1:7102", stdout: /^true true true\n$/ },
  { in: "async function build_report", stdout: /^report for 2026-11\n$/ },
  { in: "async function send_receipt", stdout: /^receipt for order 1\n$/ },
  // Exactly the output the README shows.
  { in: "npx repid-gen --compat", stdout: shownOutput(README, "npx repid-gen --compat") },
  {
    in: "v1.jobs.welcome.enqueue",
    stdout: /^welcome Ada <ada@example\.com> \(trial\)\n$/,
    stderr: /upcaster turned it into the current arguments/,
  },
  {
    in: "const audit: Hooks",
    stdout: /hello, tenant acme[\s\S]*dead letter order-7: card declined[\s\S]*ready: 1/,
  },
  {
    in: "prometheusMetrics({ broker })",
    stdout: /repid_jobs_succeeded_total\{queue="default",actor="ping"\} 1/,
  },
  { in: "InMemorySpanExporter()", stdout: /^send default ([0-9a-f]{32})\nprocess default \1\n$/ },
  {
    in: "npx repid enqueue send_email",
    stdout: /^enqueued [0-9a-f-]+ \(send_email on emails\)\n$/,
  },
  { in: "npx repid queues", stdout: /emails/ },
  { in: "npx repid jobs emails --state ready", stdout: /send_email/ },
  { in: "npx repid pause emails", stdout: /^paused emails\n$/ },
  { in: "npx repid resume emails", stdout: /^resumed emails\n$/ },
  {
    in: "npx repid dashboard",
    ready: /repid dashboard on http:\/\/127\.0\.0\.1:4000/,
    whileRunning: async () => {
      const page = await fetch("http://127.0.0.1:4000/");
      expect(page.status).toBe(200);
      const api = (await (await fetch("http://127.0.0.1:4000/api/queues")).json()) as {
        queues: { name: string; paused: boolean; counts: { ready: number } }[];
      };
      // The job `npx repid enqueue` sent, waiting (no worker runs now).
      expect(api.queues.find((q) => q.name === "emails")).toMatchObject({
        paused: false,
        counts: { ready: 1 },
      });
    },
  },
  { in: "createTestApp({ routers: [router], registry })", stdout: /^all assertions passed\n$/ },
];

let project: string;
const scratches: string[] = [];

afterAll(() => {
  removeProjects();
  // Each holds a link to the project's node_modules, not a copy: rmSync does not follow it.
  for (const dir of scratches.splice(0)) rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  const tarballs = await packed();
  const setup = readSetup(codeBlocks(README));
  // No "type": the README's `npm pkg set type=module` sets it, as for a user.
  project = await newProject(
    "readme",
    {
      dependencies: sources(setup.dependencies, tarballs),
      devDependencies: sources(setup.devDependencies, tarballs),
    },
    { type: undefined },
  );
}, 300_000);

describe("the snippet runner", () => {
  const GOOD = [
    "```sh",
    "npm init -y",
    "npm pkg set type=module",
    "npm install repid zod",
    "npm install --save-dev typescript @types/node",
    "npx tsc --init --types node --rootDir src --outDir dist",
    "```",
    "",
    "```ts",
    'import { Connection, InMemoryMessageBroker, Job, Queue, Repid } from "repid";',
    "",
    "const app = new Repid(new Connection(new InMemoryMessageBroker()));",
    "await app.magic(async () => {",
    "  await new Queue().declare();",
    '  console.log((await new Job("hello").enqueue()).created);',
    "});",
    "```",
    "",
  ].join("\n");

  /** A fresh project sharing the installed packages. */
  function scratch(): string {
    const dir = mkdtempSync(join(tmpdir(), "repid-readme-check-"));
    scratches.push(dir);
    writeFileSync(join(dir, "package.json"), '{ "name": "check", "private": true }\n');
    symlinkSync(join(project, "node_modules"), join(dir, "node_modules"), "dir");
    return dir;
  }
  const run = (markdown: string, expectations: Expectation[] = []) =>
    runMarkdown(markdown, { dir: scratch(), name: "check.md", expectations });

  it("runs a good snippet and checks what it prints", async () => {
    const report = await run(GOOD, [{ in: "new Job(", stdout: /^true\n$/ }]);
    expect(report).toMatchObject({ blocks: 2, tsRun: 1, commands: 2, compiles: 1 });
  }, 60_000);

  it("fails on a snippet that lacks an import, naming the README line", async () => {
    const broken = GOOD.replace(
      "InMemoryMessageBroker, Job, Queue",
      "InMemoryMessageBroker, Queue",
    );
    await expect(run(broken)).rejects.toThrow(
      /check\.md:9 \(block 2[\s\S]*check\.md:15 \(src\/readme-1\.ts\): error TS2304: Cannot find name 'Job'/,
    );
  }, 60_000);

  it("fails on a command that exits non-zero, on unexpected output, and on an unknown tag", async () => {
    await expect(run(`${GOOD}\`\`\`sh\nnode dist/nothing.js\n\`\`\`\n`)).rejects.toThrow(
      /check\.md:19 \(block 3, ```sh\): `node dist\/nothing\.js` exited 1/,
    );
    await expect(run(GOOD, [{ in: "new Job(", stdout: /^false\n$/ }])).rejects.toThrow(
      /stdout does not match/,
    );
    await expect(run(GOOD.replace("```ts", "```js"))).rejects.toThrow(/unknown tag "js"/);
    // Without `npm pkg set type=module`, the compiled top-level await does not run.
    await expect(run(GOOD.replace("npm pkg set type=module\n", ""))).rejects.toThrow(
      /failed|exited/,
    );
  }, 120_000);

  it("stops a command that runs until Ctrl-C after the next block, and fails one that ends early", async () => {
    const waits = `${GOOD}\`\`\`sh\nnode -e "setInterval(() => {}, 1000)"   # runs until Ctrl-C\n\`\`\`\n\n\`\`\`sh\nnode -e "1"\n\`\`\`\n`;
    const report = await run(waits);
    expect(report.background).toBe(1);
    // The early one writes a file as it exits; the next block ends only a second after seeing
    // that file, so the runner finds it ended whatever the machine's load.
    const early = `${GOOD}\`\`\`sh\nnode -e "process.on('exit', () => require('fs').writeFileSync('ended', ''))"   # runs until Ctrl-C\n\`\`\`\n\n\`\`\`sh\nnode -e "const w = () => require('fs').existsSync('ended') ? setTimeout(() => {}, 1000) : setTimeout(w, 20); w()"\n\`\`\`\n`;
    await expect(run(early)).rejects.toThrow(/ended before Ctrl-C/);
  }, 120_000);
});

describeRedis("the README", () => {
  describeRabbit("every code block, run as written in a new project", () => {
    it("runs, in README order, and prints what it says", async () => {
      expect(README).toContain('queue: "reports"');
      const { db, release } = await claimDatabase();
      // The Postgres blocks get an empty database of their own, dropped afterwards.
      const postgres = await scratchDatabase();
      const started = Date.now();
      try {
        await deleteRabbitQueues();
        const report = await runMarkdown(README, {
          dir: project,
          env: { REDIS_URL: dbUrl(db), RABBITMQ_URL, POSTGRES_URL: postgres.url },
          expectations: EXPECTATIONS,
        });
        console.log(
          `README: ${report.blocks} blocks: ${report.tsBlocks} ts (${report.tsRun} run), ${report.shBlocks} sh (${report.commands} commands, ${report.background} until Ctrl-C), ${report.notRun} not run; ${report.compiles} tsc runs; ${Date.now() - started} ms\n${report.log.join("\n")}`,
        );
        expect(report.tsRun).toBeGreaterThanOrEqual(8);
      } finally {
        await release();
        await deleteRabbitQueues();
        await postgres.drop();
      }
    }, 300_000);
  });
});

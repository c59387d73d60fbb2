/**
 * The packages as users get them: `npm pack` of this repository (the runtime `repid`) and of its
 * workspaces (`repid-gen`, `repid-contract`), installed into new projects with npm, offline.
 *
 * `packed()` builds and packs once per test run (test files share the tarballs, under a lock).
 * `newProject()` writes a package.json and a lock made from this repository's own lock
 * (`offline-lock.ts`), then runs `npm install --offline`: npm resolves, links bins and marks
 * dev/optional packages itself, with every tarball from the cache this repository's `npm ci`
 * filled. TypeScript 7 and 5.5 come from the aliases `typescript-7` and `typescript-5.5`.
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { lockFor, type Source } from "./offline-lock.js";

export const ROOT = new URL("../..", import.meta.url).pathname;
const run = promisify(execFile);

/** What a user's shell has: no repid-source condition, so packages resolve as published. */
export const userEnv: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_OPTIONS: "",
  npm_config_update_notifier: "false",
  npm_config_audit: "false",
  npm_config_fund: "false",
};

/** Runs a command; on failure, throws with its output. */
export async function sh(
  command: string,
  args: readonly string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
  timeout = 180_000,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(command, args, { cwd, env: { ...userEnv, ...extraEnv }, timeout });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${e.stdout}\n${e.stderr}`);
  }
}

export interface Tarball {
  readonly path: string;
  readonly manifest: Record<string, unknown> & { version: string; name: string };
  readonly integrity: string;
}

export interface Tarballs {
  readonly repid: Tarball;
  readonly "repid-gen": Tarball;
  readonly "repid-contract": Tarball;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeTarball(path: string): Tarball {
  const manifest = execFileSync("tar", ["-xzOf", path, "package/package.json"], {
    encoding: "utf8",
  });
  return {
    path,
    manifest: JSON.parse(manifest) as Tarball["manifest"],
    integrity: `sha512-${createHash("sha512").update(readFileSync(path)).digest("base64")}`,
  };
}

/**
 * The vitest run this process belongs to: its parent's pid and start time (a pid alone is reused).
 */
function runKey(): string {
  try {
    const stat = readFileSync(`/proc/${process.ppid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return `${process.ppid}-${fields[19]}`;
  } catch {
    return `${process.ppid}`;
  }
}

const projects: string[] = [];

/** Deletes the projects this test file made (each holds a full node_modules). */
export function removeProjects(): void {
  for (const dir of projects.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The three tarballs, built and packed once for the whole test run (keyed by the vitest process
 * that started the test files), the same way a release is: `npm pack` and
 * `npm pack --workspaces`, each running its package's `prepack` build.
 */
export async function packed(): Promise<Tarballs> {
  const dir = join(tmpdir(), `repid-packs-${runKey()}`);
  const lock = join(dir, ".lock");
  const done = join(dir, ".done");
  mkdirSync(dir, { recursive: true });
  let mine = false;
  try {
    mkdirSync(lock);
    mine = true;
  } catch {
    // Another test file packs; wait for it below.
  }
  if (mine) {
    const flags = ["--pack-destination", dir, "--loglevel=error"];
    await sh("npm", ["pack", ...flags], ROOT);
    await sh("npm", ["pack", "--workspaces", ...flags], ROOT);
    writeFileSync(done, "");
  } else {
    for (let waited = 0; !existsSync(done); waited += 200) {
      if (waited > 300_000) throw new Error(`gave up waiting for ${done}`);
      await sleep(200);
    }
  }
  const version = (
    JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }
  ).version;
  const at = (name: string) => describeTarball(join(dir, `${name}-${version}.tgz`));
  return {
    repid: at("repid"),
    "repid-gen": at("repid-gen"),
    "repid-contract": at("repid-contract"),
  };
}

/** Where a dependency of a new project comes from: a tarball, or an entry of this repository's lock. */
export type Dependency = Tarball | string;

/**
 * A new project in a temp folder with these dependencies, installed by npm from its cache.
 * A string names the package's path in this repository's lock (`node_modules/zod`,
 * `node_modules/typescript-7`); a tarball is installed from its file.
 */
export async function newProject(
  name: string,
  packages: {
    readonly dependencies: Record<string, Dependency>;
    readonly devDependencies?: Record<string, Dependency>;
  },
  extra: Record<string, unknown> = {},
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `repid-${name}-`));
  projects.push(dir);
  const lockRoot = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version: string }>;
  };
  const spec = (dependency: Dependency): string =>
    typeof dependency === "string"
      ? `^${lockRoot.packages[dependency]?.version ?? "0.0.0"}`
      : `file:${dependency.path}`;
  const source = (dependency: Dependency): Source =>
    typeof dependency === "string"
      ? { lock: dependency }
      : {
          tarball: dependency.path,
          manifest: dependency.manifest,
          integrity: dependency.integrity,
        };
  const dev = packages.devDependencies ?? {};
  const project = {
    name,
    dependencies: Object.fromEntries(
      Object.entries(packages.dependencies).map(([k, v]) => [k, spec(v)]),
    ),
    devDependencies: Object.fromEntries(Object.entries(dev).map(([k, v]) => [k, spec(v)])),
  };
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ ...project, version: "1.0.0", private: true, type: "module", ...extra }, null, 2)}\n`,
  );
  const sources = Object.fromEntries(
    Object.entries({ ...packages.dependencies, ...dev }).map(([k, v]) => [k, source(v)]),
  );
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify(lockFor(project, sources), null, 2));
  await npm(dir, ["install"]);
  return dir;
}

/** npm in a project, offline: every package must come from npm's cache. */
export function npm(
  dir: string,
  args: readonly string[],
): Promise<{ stdout: string; stderr: string }> {
  return sh("npm", [...args, "--offline", "--loglevel=error"], dir);
}

/** Disk usage of a folder, in KiB. */
export async function kib(path: string): Promise<number> {
  return Number((await sh("du", ["-sk", path], path)).stdout.split("\t")[0]);
}

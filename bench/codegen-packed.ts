/**
 * repid-gen as users run it: the packed tarballs installed into new projects (TypeScript 7,
 * @types/node, `tsc --init`), 4 and 500 actor files, plain node. For each: three runs from
 * scratch (no generated file, no config), then an unchanged run and a --check, each with
 * repid-gen's phase times (--verbose). Run: npx tsx bench/codegen-packed.ts [counts...].
 * Not a test: tests never assert speed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newProject, packed, removeProjects } from "../test/packaging/packages.js";
import { actorFile } from "./codegen-project.js";

const counts = process.argv.slice(2).map(Number);
const tarballs = await packed();
const env = { ...process.env, NODE_OPTIONS: "" };

/** Runs repid-gen --verbose; prints the wall time and what it said about its phases. */
function timed(dir: string, label: string, args: readonly string[]): void {
  const started = performance.now();
  const run = spawnSync(join(dir, "node_modules/.bin/repid-gen"), ["--verbose", ...args], {
    cwd: dir,
    env,
    encoding: "utf8",
  });
  const ms = Math.round(performance.now() - started);
  if (run.status !== 0) throw new Error(`repid-gen failed: ${run.stderr}`);
  const phases = run.stderr.split("\n").filter((line) => /\d+ ms/.test(line));
  console.log(`${label}: ${ms} ms wall\n  ${phases.join("\n  ")}`);
}

for (const count of counts.length > 0 ? counts : [4, 500]) {
  const dir = await newProject(`codegen-${count}`, {
    dependencies: { repid: tarballs.repid, zod: "node_modules/zod" },
    devDependencies: {
      "repid-gen": tarballs["repid-gen"],
      typescript: "node_modules/typescript-7",
      "@types/node": "node_modules/@types/node",
    },
  });
  mkdirSync(join(dir, "src/actors"), { recursive: true });
  for (let i = 0; i < count; i++) {
    writeFileSync(join(dir, `src/actors/actor-${i}.ts`), actorFile(i));
  }
  const tsc = join(dir, "node_modules/.bin/tsc");
  const init = ["--init", "--types", "node", "--rootDir", "src", "--outDir", "dist"];
  execFileSync(tsc, init, { cwd: dir, env, stdio: "ignore" });
  const gen = ["--actors", "src/actors/**/*.ts", "--out", "src/generated/registry.ts"];
  for (let i = 1; i <= 3; i++) {
    rmSync(join(dir, "src/generated"), { recursive: true, force: true });
    rmSync(join(dir, "repid.config.json"), { force: true });
    timed(dir, `${count} actors, from scratch #${i}`, gen);
  }
  timed(dir, `${count} actors, unchanged`, []);
  timed(dir, `${count} actors, --check`, ["--check"]);
}
removeProjects();

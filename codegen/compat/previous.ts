import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import { CodegenError } from "repid";
import type { GenModel } from "../model.js";
import { readManifest, type Manifest } from "./manifest.js";
import type { CurrentActor } from "./report.js";

/**
 * The previous registry `--compat` compares with: `spec` is a path to a generated registry, or a
 * git revision (`main`, `v1.2.0`, `HEAD~1`) whose copy of the output file is read, or
 * `<rev>:<path>`.
 */
export function loadPrevious(spec: string, cwd: string, output: string): Manifest {
  const asFile = resolve(cwd, spec);
  if (statSync(asFile, { throwIfNoEntry: false })?.isFile())
    return readManifest(readFileSync(asFile, "utf8"), spec);
  const object = spec.includes(":")
    ? spec
    : `${spec}:./${relative(cwd, resolve(cwd, output)).split("\\").join("/")}`;
  let text: string;
  try {
    text = execFileSync("git", ["show", object], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    throw new CodegenError(
      spec,
      1,
      1,
      `--compat: not a file, and git cannot show ${object}${stderr ? ` (${stderr})` : ""}`,
    );
  }
  return readManifest(text, object);
}

/** The actors of a model as `compareRegistries` takes them. */
export function currentActors(model: GenModel): CurrentActor[] {
  return model.actors.map((a) => ({
    name: a.name,
    queue: a.queue,
    fingerprint: a.fingerprint,
    args: a.shapes.args,
    result: a.shapes.result,
    upcasts: a.upcasts,
  }));
}

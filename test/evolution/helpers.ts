import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readManifest, type Manifest } from "../../codegen/compat/manifest.js";
import { currentActors } from "../../codegen/compat/previous.js";
import type { CurrentActor } from "../../codegen/compat/report.js";
import { Generator } from "../../codegen/generate.js";
import type { GenModel } from "../../codegen/model.js";
import { ROOT, options } from "../codegen/helpers.js";

export { ROOT };

/** The fixture versions of the actor project, oldest first. */
export const VERSIONS = ["v1", "v2", "v3"] as const;
export type Version = (typeof VERSIONS)[number];

/** Where a version's generated registry is committed. */
export function registryPath(version: Version): string {
  return `test/evolution/fixtures/${version}/registry.ts`;
}

/** Scans a version's actors: its model and its generated registry's text (nothing written). */
export async function renderVersion(version: Version): Promise<{ model: GenModel; text: string }> {
  const generator = new Generator(
    options([`test/evolution/fixtures/${version}/actors.ts`], registryPath(version), {
      command: "npx repid-gen (test/evolution fixtures)",
    }),
  );
  const rendered = await generator.render();
  return { model: rendered.model, text: rendered.files[0]!.content };
}

/** The compat manifest of a version's committed registry. */
export function committedManifest(version: Version): Manifest {
  return readManifest(
    readFileSync(join(ROOT, registryPath(version)), "utf8"),
    registryPath(version),
  );
}

/** A version's actors as `--compat` compares them. */
export async function actorsOf(version: Version): Promise<CurrentActor[]> {
  return currentActors((await renderVersion(version)).model);
}

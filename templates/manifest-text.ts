/**
 * The compat manifest closing the generated registry: a comment holding each actor's queue,
 * schema fingerprint and wire shapes as JSON, one line per actor. `repid-gen --compat` reads it
 * back from the previous registry (see `codegen/compat/manifest.ts`).
 */
import type { ActorShape } from "../codegen/model.js";

/** Opens the manifest comment. */
export const MANIFEST_OPEN = "/* repid-gen compat manifest";
export const MANIFEST_VERSION = 1;

/** The manifest comment of `actors` (by name). One line of JSON, so diffs stay readable per actor. */
export function manifestText(actors: readonly (ActorShape & { readonly name: string })[]): string {
  const lines = actors.map(
    // `*/` cannot appear inside the comment: JSON may spell `/` as `\/`.
    (a) =>
      JSON.stringify({
        name: a.name,
        queue: a.queue,
        fingerprint: a.fingerprint,
        args: a.args ?? null,
        result: a.result,
      }).replaceAll("*/", "*\\/"),
  );
  return [
    `${MANIFEST_OPEN} v${MANIFEST_VERSION}: each actor's queue, schema fingerprint and wire shape, read by`,
    "`repid-gen --compat` when this file is the previous registry. Generated; do not edit.",
    ...lines,
    "*/",
  ].join("\n");
}

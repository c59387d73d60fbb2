import type { Message } from "../../brokers/broker.js";
import { SchemaMismatchError } from "../../core/errors.js";
import { zodIssues, type ActorDefinition } from "../../core/registry.js";
import type { Actor } from "../router.js";
import type { SchemaVersions } from "./schema-versions.js";

/**
 * Checks a message whose `repid-schema` header names another fingerprint than the registry's
 * (`current`): it is counted, goes through the actor's upcaster for that fingerprint when it
 * declares one, and is dead-lettered as `SCHEMA_MISMATCH` (both fingerprints named) when it
 * still does not fit the current schema.
 */
export async function checkOtherSchema(
  schema: ActorDefinition["args"],
  current: string,
  sent: string,
  actor: Actor,
  message: Message,
  raw: unknown,
  schemas: SchemaVersions,
): Promise<{ ok: true; args: unknown } | { ok: false; error: Error }> {
  const seen = schemas.seen(message, sent, current);
  const mismatch = (issues: SchemaMismatchError["issues"], reason?: string, cause?: unknown) => {
    schemas.report(message, sent, current, "dead-lettered", seen);
    const details = { actor: actor.name, fingerprint: sent, expected: current, issues, seen };
    return {
      ok: false as const,
      error: new SchemaMismatchError(
        reason === undefined ? details : { ...details, reason },
        cause === undefined ? undefined : { cause },
      ),
    };
  };
  const upcaster = actor.upcasts?.get(sent);
  let input = raw;
  if (upcaster) {
    try {
      input = await upcaster(raw);
    } catch (error) {
      return mismatch(
        [],
        `its upcaster threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
        error,
      );
    }
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    return upcaster
      ? mismatch(issues, `the arguments its upcaster returned fail this worker's schema`)
      : mismatch(issues);
  }
  schemas.report(message, sent, current, upcaster ? "upcast" : "validated", seen);
  return { ok: true, args: parsed.data };
}

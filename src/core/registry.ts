import type { z } from "zod";
import type { Duration } from "./duration.js";
import type { ValidationIssue } from "./errors.js";

/**
 * One actor as the generated registry describes it: where its messages go and the zod schemas
 * of what it takes and returns. `repid-gen` writes these; you rarely write one by hand.
 */
export interface ActorDefinition<
  TArgsIn = unknown,
  TArgsOut = TArgsIn,
  TResult = unknown,
  TProgress = unknown,
> {
  /** The actor name messages are routed on. */
  readonly name: string;
  /** The property of the generated client (the name in camelCase). */
  readonly property: string;
  readonly queue: string;
  /**
   * The schema fingerprint (12 hex digits of a hash of the wire shapes of the arguments and the
   * result): the client sends it in each message's `SCHEMA_HEADER`, and a worker compares it
   * with its own to spot messages of another version. Absent in hand-written definitions.
   */
  readonly fingerprint?: string;
  /** Schema of the arguments: producers send `z.input`, the actor receives `z.output`. */
  readonly args: z.ZodType<TArgsOut, TArgsIn>;
  readonly result: z.ZodType<TResult>;
  /**
   * Schema of the progress values the actor reports (`ctx.progress`), which repid-gen reads from
   * its `JobContext<P>` parameter: a worker with the registry refuses a value that does not fit,
   * and the client decodes what `progress()` and `watch()` read with it. Absent when the actor's
   * context names no progress type.
   */
  readonly progress?: z.ZodType<TProgress>;
  /** Job timeout used when the producer gives none. */
  readonly timeout?: Duration;
  /**
   * Whether the actor keeps its results (its `storeResult` option): sent with each job unless the
   * producer says otherwise. `false` makes `result()` fail at once with `ResultNotStoredError`
   * instead of waiting; absent means unknown (then `result()` waits, up to its timeout).
   */
  readonly storeResult?: boolean | Duration;
  /** The actor's `concurrency` option (limits across every worker), as its file writes it. */
  readonly concurrency?: number | { readonly limit: number; readonly key?: string };
  /** The actor's `rateLimit` option (limits across every worker), as its file writes it. */
  readonly rateLimit?: { readonly limit: number; readonly per: Duration; readonly key?: string };
}

/** The message header holding the producer's schema fingerprint for the message's actor. */
export const SCHEMA_HEADER = "repid-schema";

/** Actor definitions keyed by actor name. */
export type Registry = { readonly [name: string]: ActorDefinition<any, any, any, any> };

/** Identity function that keeps the literal types of a registry. */
export function defineRegistry<const R extends Registry>(registry: R): R {
  return registry;
}

/** Flattens zod issues into repid's plain issue records. */
export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.filter((p): p is string | number => typeof p !== "symbol"),
    message: issue.message,
    code: issue.code,
  }));
}

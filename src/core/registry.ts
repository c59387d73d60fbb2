import type { z } from "zod";
import type { Connection } from "../connection/connection.js";
import type { Duration } from "./duration.js";
import { ValidationError, type ValidationIssue } from "./errors.js";
import { Job, type JobOptions } from "../producer/job.js";
import type { JobHandle } from "../producer/result.js";

/**
 * One actor as the generated registry describes it: where its messages go and the zod schemas
 * of what it takes and returns. `repid-gen` writes these; you rarely write one by hand.
 */
export interface ActorDefinition<TArgsIn = unknown, TArgsOut = TArgsIn, TResult = unknown> {
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
  /** Job timeout used when the producer gives none. */
  readonly timeout?: Duration;
  /**
   * Whether the actor keeps its results (its `storeResult` option): sent with each job unless the
   * producer says otherwise. `false` makes `result()` fail at once with `ResultNotStoredError`
   * instead of waiting; absent means unknown (then `result()` waits, up to its timeout).
   */
  readonly storeResult?: boolean | Duration;
}

/** The message header holding the producer's schema fingerprint for the message's actor. */
export const SCHEMA_HEADER = "repid-schema";

/** Actor definitions keyed by actor name. */
export type Registry = { readonly [name: string]: ActorDefinition<any, any, any> };

/** Producer options of a generated client call: the Job options minus what the actor fixes. */
export type EnqueueOptions = Omit<JobOptions, "queue" | "args">;

/** The typed producer side of one actor. */
export interface ActorClient<TArgsIn, TResult> {
  /** Validates `args`, then enqueues a job for this actor. @throws ValidationError */
  enqueue(
    ...params: undefined extends TArgsIn
      ? [args?: TArgsIn, options?: EnqueueOptions]
      : [args: TArgsIn, options?: EnqueueOptions]
  ): Promise<JobHandle<TResult>>;
  /** Awaits the result of a job of this actor enqueued anywhere. */
  result(id: string, options?: { readonly timeout?: Duration }): Promise<TResult>;
}

/** The client type of a registry: one property per actor. */
export type RegistryClient<R extends Registry> = {
  readonly [K in keyof R as R[K]["property"]]: ActorClient<
    z.input<R[K]["args"]>,
    z.output<R[K]["result"]>
  >;
};

/** Identity function that keeps the literal types of a registry. */
export function defineRegistry<const R extends Registry>(registry: R): R {
  return registry;
}

/**
 * Builds the typed producer client of a registry. Without a connection, each call uses the
 * ambient `magic()` connection.
 */
export function createClient<R extends Registry>(
  registry: R,
  connection?: Connection,
): RegistryClient<R> {
  const client: Record<string, ActorClient<unknown, unknown>> = {};
  for (const definition of Object.values(registry)) {
    client[definition.property] = actorClient(definition, connection);
  }
  return client as RegistryClient<R>;
}

function actorClient(
  definition: ActorDefinition,
  connection: Connection | undefined,
): ActorClient<unknown, unknown> {
  // Results come back as JSON; the result schema turns them into what the actor's type says
  // (ISO strings into Dates, say) and rejects what does not match.
  const decode = (value: unknown): unknown => {
    const parsed = definition.result.safeParse(value);
    if (!parsed.success)
      throw new ValidationError(definition.name, zodIssues(parsed.error), "result");
    return parsed.data;
  };
  return {
    async enqueue(args?: unknown, options: EnqueueOptions = {}) {
      const parsed = definition.args.safeParse(args);
      if (!parsed.success) throw new ValidationError(definition.name, zodIssues(parsed.error));
      const storeResult = options.storeResult ?? definition.storeResult;
      const job = new Job(definition.name, {
        ...(definition.timeout !== undefined ? { timeout: definition.timeout } : {}),
        ...options,
        ...(storeResult !== undefined ? { storeResult } : {}),
        queue: definition.queue,
        ...(args !== undefined ? { args } : {}),
        ...(definition.fingerprint !== undefined
          ? { headers: { ...options.headers, [SCHEMA_HEADER]: definition.fingerprint } }
          : {}),
      });
      const explicit = options.connection ?? connection;
      const handle = await job.enqueue(explicit ? { connection: explicit } : {});
      // The registry knows what the producer alone cannot: that no result will be stored.
      const none = definition.storeResult === false && !options.storeResult;
      const known = none ? { storesResult: false, actor: definition.name } : handle;
      return handle.withDecoder(decode, known);
    },
    async result(id: string, options: { readonly timeout?: Duration } = {}) {
      return Job.result(id, {
        ...options,
        decode,
        queue: definition.queue,
        ...(connection ? { connection } : {}),
      });
    },
  };
}

/** Flattens zod issues into repid's plain issue records. */
export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.filter((p): p is string | number => typeof p !== "symbol"),
    message: issue.message,
    code: issue.code,
  }));
}

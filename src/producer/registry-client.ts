import type { z } from "zod";
import type { Connection } from "../connection/connection.js";
import type { Duration } from "../core/duration.js";
import { ValidationError } from "../core/errors.js";
import { SCHEMA_HEADER, zodIssues, type ActorDefinition, type Registry } from "../core/registry.js";
import { Job, type JobOptions } from "./job.js";
import type { JobHandle } from "./result.js";
import type { FlowStep, FlowStepOptions } from "./flow-step.js";

/** Producer options of a generated client call: the Job options minus what the actor fixes. */
export type EnqueueOptions = Omit<JobOptions, "queue" | "args">;

/**
 * The typed producer side of one actor. `TProgress` is the type of its progress values (its
 * `JobContext<P>`), `unknown` when it names none.
 */
export interface ActorClient<TArgsIn, TResult, TProgress = unknown> {
  /** Validates `args`, then enqueues a job for this actor. @throws ValidationError */
  enqueue(
    ...params: undefined extends TArgsIn
      ? [args?: TArgsIn, options?: EnqueueOptions]
      : [args: TArgsIn, options?: EnqueueOptions]
  ): Promise<JobHandle<TResult, TProgress>>;
  /** Awaits the result of a job of this actor enqueued anywhere. */
  result(id: string, options?: { readonly timeout?: Duration }): Promise<TResult>;
  /**
   * A step of a flow (`flow(jobs.x.with(args)).then(jobs.y)`): validates `args` now; nothing is
   * sent until the flow's `enqueue()`. @throws ValidationError
   */
  with(
    ...params: undefined extends TArgsIn
      ? [args?: TArgsIn, options?: FlowStepOptions]
      : [args: TArgsIn, options?: FlowStepOptions]
  ): FlowStep<TResult>;
}

const definitions = new WeakMap<object, ActorDefinition>();

/** The actor definition behind a client made by `createClient` (for flows' `.then`). */
export function definitionOf(client: object): ActorDefinition | undefined {
  return definitions.get(client);
}

/** What an actor's progress values read as: its progress schema's output, else `unknown`. */
export type ProgressType<D> = D extends { readonly progress: infer S extends z.ZodType }
  ? z.output<S>
  : unknown;

/** The client type of a registry: one property per actor. */
export type RegistryClient<R extends Registry> = {
  readonly [K in keyof R as R[K]["property"]]: ActorClient<
    z.input<R[K]["args"]>,
    z.output<R[K]["result"]>,
    ProgressType<R[K]>
  >;
};

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

/**
 * Decodes an actor's progress values with its registry's progress schema (`ValidationError` for
 * one that does not fit); `undefined` when the actor has none.
 */
export function progressDecoder(
  definition: ActorDefinition,
): ((value: unknown) => unknown) | undefined {
  const schema = definition.progress;
  if (!schema) return undefined;
  return (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new ValidationError(definition.name, zodIssues(parsed.error), "progress");
    return parsed.data;
  };
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
  const decodeProgress = progressDecoder(definition);
  const client: ActorClient<unknown, unknown> = {
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
      return handle.withDecoder(decode, known, decodeProgress);
    },
    async result(id: string, options: { readonly timeout?: Duration } = {}) {
      return Job.result(id, {
        ...options,
        decode,
        queue: definition.queue,
        ...(connection ? { connection } : {}),
      });
    },
    with(args?: unknown, options: FlowStepOptions = {}) {
      const parsed = definition.args.safeParse(args);
      if (!parsed.success) throw new ValidationError(definition.name, zodIssues(parsed.error));
      return { definition, args, options };
    },
  };
  definitions.set(client, definition);
  return client;
}

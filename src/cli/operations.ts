/**
 * What the CLI and the dashboard do beyond `Admin` itself, written once so both faces behave
 * alike: a job with its stored result, validated enqueue from a registry, actor schemas.
 */
import { z } from "zod";
import type { Admin } from "../ops/admin.js";
import type { JobView } from "../brokers/admin.js";
import type { StoredResult } from "../brokers/broker.js";
import type { Connection } from "../connection/connection.js";
import { ValidationError } from "../core/errors.js";
import { Job } from "../producer/job.js";
import { SCHEMA_HEADER, zodIssues, type Registry } from "../core/registry.js";
import { findActor } from "./registry-loader.js";

/** A job as `Admin.job` finds it, with its stored result when the broker keeps one. */
export interface JobDetails extends JobView {
  readonly result?: StoredResult;
}

/** A job that has ended and left only its stored result: its message is gone from the broker. */
export interface FinishedJob {
  readonly id: string;
  readonly state: "finished";
  readonly result: StoredResult;
}

/** Looks a job up (in `queue`, or in every queue) and reads its stored result. */
export async function jobDetails(
  admin: Admin,
  connection: Connection,
  id: string,
  queue?: string,
): Promise<JobDetails | FinishedJob | undefined> {
  const view = await admin.job(id, queue);
  if (!view) {
    const kept = await connection.broker
      .readResult(id, queue === undefined ? {} : { queue })
      .catch(() => undefined);
    return kept ? { id, state: "finished", result: kept } : undefined;
  }
  const result = await connection.broker
    .readResult(id, { queue: view.message.queue })
    .catch(() => undefined);
  return result ? { ...view, result } : view;
}

/** What an enqueue from the CLI or the dashboard produced. */
export interface Enqueued {
  readonly id: string;
  readonly actor: string;
  readonly queue: string;
}

/**
 * Validates `args` with the actor's schema from the registry (throws `ValidationError` with the
 * zod issues) and enqueues the job on the actor's queue, or on `queue`.
 */
export async function enqueueActor(
  connection: Connection,
  registry: Registry,
  actor: string,
  args: unknown,
  options: { readonly queue?: string | undefined } = {},
): Promise<Enqueued> {
  const definition = findActor(registry, actor);
  const parsed = definition.args.safeParse(args);
  if (!parsed.success) throw new ValidationError(definition.name, zodIssues(parsed.error));
  const queue = options.queue ?? definition.queue;
  const job = new Job(definition.name, {
    queue,
    ...(args !== undefined ? { args } : {}),
    ...(definition.timeout !== undefined ? { timeout: definition.timeout } : {}),
    ...(definition.storeResult !== undefined ? { storeResult: definition.storeResult } : {}),
    // As the generated client does: workers tell this registry's messages from other versions'.
    ...(definition.fingerprint !== undefined
      ? { headers: { [SCHEMA_HEADER]: definition.fingerprint } }
      : {}),
  });
  const handle = await job.enqueue({ connection });
  return { id: handle.id, actor: definition.name, queue };
}

/** One actor of the registry as operators see it, its arguments as JSON Schema. */
export interface ActorSchema {
  readonly name: string;
  readonly property: string;
  readonly queue: string;
  /** JSON Schema of what a producer may send (zod's input side). */
  readonly args: unknown;
}

/** The registry's actors, by name, each with the JSON Schema of its arguments. */
export function actorSchemas(registry: Registry): ActorSchema[] {
  return Object.values(registry)
    .map((definition) => ({
      name: definition.name,
      property: definition.property,
      queue: definition.queue,
      args: z.toJSONSchema(definition.args, { io: "input", unrepresentable: "any" }),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * One step of a flow as `jobs.x.with(args, options)` makes it, or as `.then(jobs.x, options)`
 * names it: the actor and its queue, its arguments (for a first step), its options, and how its
 * result is decoded. `TResult` is its result's type.
 */
import type { ActorDefinition } from "../core/registry.js";
import type { JobOptions } from "./job.js";

/** Options of a step of a flow: those of an enqueue, minus what the flow sets itself. */
export type FlowStepOptions = Pick<JobOptions, "priority" | "retries" | "timeout" | "headers">;

export interface FlowStep<TResult> {
  readonly definition: ActorDefinition;
  /** The arguments (already checked with the actor's schema); a later step gets its own. */
  readonly args: unknown;
  readonly options: FlowStepOptions;
  /** Phantom: the step's result type. */
  readonly __result?: TResult;
}

/** One stage of an enqueued flow: one step, or the branches of an `all`. */
export interface FlowStage {
  readonly steps: readonly {
    readonly actor: string;
    readonly queue: string;
    /** Decodes the step's progress values (its actor's progress schema), when it has one. */
    readonly progress?: (value: unknown) => unknown;
  }[];
  readonly all: boolean;
}

/**
 * Typed flows: chains whose steps the compiler checks against each other, and fan-in.
 * @example
 * const page = await flow(jobs.fetchPage.with({ url })).then(jobs.parsePage).enqueue();
 * const rows = await page.result(); // parsePage's result type
 *
 * Each step is a job of its own; a worker enqueues the next step before it settles the previous
 * one (see worker/run/flow-continue.ts), so a flow survives crashed workers. Needs a broker with
 * `dedupe` and `results` (in-memory, Redis); others refuse with `NotSupportedError`.
 */
import { capabilitiesOf } from "../brokers/broker.js";
import type { Connection } from "../connection/connection.js";
import { resolveConnection } from "../connection/repid.js";
import { toMs, type Duration } from "../core/duration.js";
import { InvalidOptionError, NotSupportedError, QueueNotDeclaredError } from "../core/errors.js";
import { FLOW_HEADER, stepId, type FlowHeader, type NextStep } from "../core/flow-plan.js";
import { newId } from "../core/ids.js";
import { SCHEMA_HEADER, type ActorDefinition } from "../core/registry.js";
import { FlowHandle, type FlowStage } from "./flow-handle.js";
import type { FlowStep, FlowStepOptions } from "./flow-step.js";
import { Job } from "./job.js";
import { withWatch } from "./job-watch.js";
import { WATCH_HEADER } from "../core/watch.js";
import { definitionOf, progressDecoder, type ActorClient } from "./registry-client.js";

export type { FlowStep, FlowStepOptions } from "./flow-step.js";
export { FlowHandle, type FlowStepState } from "./flow-handle.js";
export type { FlowProgressUpdate, FlowStepRef } from "./flow-watch.js";

/** What `.then(next)` demands: the next step's arguments accept the previous step's result. */
export type Fits<TPrevious, TArgsIn> = [TPrevious] extends [TArgsIn]
  ? unknown
  : { readonly "the next step's arguments do not accept the previous step's result": TPrevious };

/** Results of the steps of `flow.all`, as a tuple in their order. */
export type ResultsOf<T extends readonly FlowStep<unknown>[]> = {
  -readonly [K in keyof T]: T[K] extends FlowStep<infer R> ? R : never;
};

export interface FlowEnqueueOptions {
  /** Use this connection instead of the ambient `magic()` one. */
  readonly connection?: Connection;
  /** The flow's id (its steps' ids start with it). @defaultValue a new id */
  readonly id?: string;
  /** How long the flow's results are kept (and its steps' ids held). @defaultValue "1d" */
  readonly keep?: Duration;
  /**
   * Every step publishes its lifecycle (`running`, `failed`, `succeeded`, `dead`) for the
   * handle's `watch()`, as a job enqueued with `watch: true` does. @defaultValue false
   */
  readonly watch?: boolean;
}

interface Planned {
  readonly definition: ActorDefinition;
  readonly options: FlowStepOptions;
}

/** A flow being built: its first stage and the steps after it. `TResult` is its result. */
export class Flow<TResult> {
  readonly #first: readonly FlowStep<unknown>[];
  readonly #all: boolean;
  readonly #next: readonly Planned[];

  /** @internal use `flow()` and `flow.all()` */
  constructor(first: readonly FlowStep<unknown>[], all: boolean, next: readonly Planned[] = []) {
    if (first.length === 0) throw new InvalidOptionError("flow", "needs at least one step");
    this.#first = first;
    this.#all = all;
    this.#next = next;
  }

  /**
   * The next step: `next` gets this flow's result as its arguments. A step whose arguments do
   * not accept that result does not compile.
   */
  then<TArgsIn, R>(
    next: ActorClient<TArgsIn, R> & Fits<TResult, TArgsIn>,
    options: FlowStepOptions = {},
  ): Flow<R> {
    const definition = definitionOf(next);
    if (!definition)
      throw new InvalidOptionError("then", "expected an actor of a generated client (jobs.x)");
    return new Flow<R>(this.#first, this.#all, [...this.#next, { definition, options }]);
  }

  /** Enqueues the first stage; the rest follows as each step ends. */
  async enqueue(options: FlowEnqueueOptions = {}): Promise<FlowHandle<TResult>> {
    const connection = resolveConnection(options.connection);
    if (!connection.isConnected) await connection.connect();
    const broker = connection.broker;
    const caps = capabilitiesOf(broker);
    if (!caps.dedupe || !caps.results || !broker.storeResult)
      throw new NotSupportedError(
        broker.constructor.name,
        "flows",
        "a flow holds its steps' ids and keeps their results: use the in-memory or Redis broker",
      );
    const f = options.id ?? newId();
    const k = toMs(options.keep ?? "1d", "keep");
    const watched = withWatch(undefined, options.watch) !== undefined;
    const next = this.#next.map(nextStep);
    const stages: FlowStage[] = [
      { steps: this.#first.map((s) => place(s.definition)), all: this.#all },
      ...this.#next.map((p) => ({ steps: [place(p.definition)], all: false })),
    ];
    // Every step's queue must exist now: a later step enqueued into a missing queue would fail
    // in a worker, long after this call returned.
    const queues = [...new Set(stages.flatMap((st) => st.steps.map((step) => step.queue)))];
    for (const queue of queues)
      if (!(await broker.queueExists(queue))) throw new QueueNotDeclaredError(queue);
    const n = this.#first.length;
    const messages = this.#first.map((step, b) => {
      const header: FlowHeader = this.#all
        ? {
            f,
            i: 0,
            b,
            n,
            bq: stages[0]!.steps.map((s) => s.queue),
            ba: stages[0]!.steps.map((s) => s.actor),
            k,
            next,
            ...(watched ? { w: 1 as const } : {}),
          }
        : { f, i: 0, k, next, ...(watched ? { w: 1 as const } : {}) };
      const { definition: d, options: o } = step;
      return new Job(d.name, {
        ...(d.timeout === undefined ? {} : { timeout: d.timeout }),
        ...o,
        id: stepId(f, 0, this.#all ? b : undefined),
        queue: d.queue,
        ...(step.args === undefined ? {} : { args: step.args }),
        // A branch keeps its result for the join; the last step keeps the flow's.
        ...(this.#all || next.length === 0 ? { storeResult: k } : {}),
        headers: {
          ...o.headers,
          [FLOW_HEADER]: JSON.stringify(header),
          ...(d.fingerprint === undefined ? {} : { [SCHEMA_HEADER]: d.fingerprint }),
          ...(watched ? { [WATCH_HEADER]: "1" } : {}),
        },
      }).toMessage();
    });
    await connection.enqueue(messages);
    return new FlowHandle<TResult>(broker, f, stages, decoders(this.#first, this.#next, this.#all));
  }
}

function place(d: ActorDefinition): FlowStage["steps"][number] {
  const progress = progressDecoder(d);
  return { actor: d.name, queue: d.queue, ...(progress ? { progress } : {}) };
}

function nextStep(p: Planned): NextStep {
  const d = p.definition;
  const m = new Job(d.name, {
    ...(d.timeout === undefined ? {} : { timeout: d.timeout }),
    ...p.options,
    queue: d.queue,
  }).toMessage();
  return {
    a: d.name,
    q: d.queue,
    p: m.priority,
    r: m.retries,
    t: m.timeoutMs,
    ...(d.fingerprint === undefined ? {} : { h: d.fingerprint }),
  };
}

/** How the flow's result is decoded: the last step's result schema, or each branch's. */
function decoders(
  first: readonly FlowStep<unknown>[],
  next: readonly Planned[],
  all: boolean,
): readonly ((value: unknown) => unknown)[] {
  const last = next[next.length - 1];
  if (last) return [(v) => last.definition.result.parse(v)];
  if (!all) return [(v) => first[0]!.definition.result.parse(v)];
  return first.map((s) => (v: unknown) => s.definition.result.parse(v));
}

/** A flow that starts with one step. */
export function flow<R>(first: FlowStep<R>): Flow<R> {
  return new Flow<R>([first as FlowStep<unknown>], false);
}

/** A flow that starts with steps run side by side; the next step gets their results in order. */
flow.all = function all<const T extends readonly FlowStep<unknown>[]>(
  steps: T,
): Flow<ResultsOf<T>> {
  return new Flow<ResultsOf<T>>(steps, true);
};

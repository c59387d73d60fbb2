/**
 * Watching a flow: `FlowHandle.progress()` and `FlowHandle.watch()`, on the job updates of its
 * steps (see job-watch.ts). The flow's current stage is the furthest one whose steps have shown
 * anything (a message, an update, a result): a step exists only once the ones before it
 * succeeded, so a sign of a later stage also tells that the stages before it are done, even when
 * their steps left no trace of their end (a chain's steps keep no result, and publish their
 * lifecycle only in a flow enqueued with `watch: true`).
 */
import type { JobUpdate, MessageBroker, StoredResult } from "../brokers/broker.js";
import { capabilitiesOf } from "../brokers/broker.js";
import { flowErrorOf, stepId, type FailedStep } from "../core/flow-plan.js";
import type { FlowStage } from "./flow-step.js";
import { WatchEvents } from "./watch-events.js";
import {
  checkUpdates,
  fromResult,
  same,
  updateOf,
  type JobProgressUpdate,
  type ProgressDecoder,
} from "./job-watch.js";

/** A step of a flow, as its updates name it. */
export type FlowStepRef = FailedStep;

/** One change of a flow's current step: the step's update, and which step it is. */
export interface FlowProgressUpdate<P = unknown> extends JobProgressUpdate<P> {
  readonly step: FlowStepRef;
}

interface Step {
  readonly ref: FlowStepRef;
  readonly queue: string;
  readonly decode: ProgressDecoder<unknown> | undefined;
  /** Branches of an `all` and the last stage's steps keep their results. */
  readonly keepsResult: boolean;
}

/** A step's state when the watch starts: its update, or the flow's failure it holds. */
interface Now {
  readonly update?: JobProgressUpdate<unknown>;
  /** Its last progress, and when it was published (to pick the latest of an `all`'s). */
  readonly progress?: { readonly value: unknown; readonly at: number };
  readonly failed?: { readonly step: FlowStepRef; readonly attempts: number };
}

type Event =
  | { readonly step: Step; readonly update: JobUpdate }
  | { readonly step: Step; readonly result: StoredResult };

/** The steps of a flow, stage by stage. */
function stepsOf(flowId: string, stages: readonly FlowStage[]): Step[][] {
  const lastStage = stages.length - 1;
  return stages.map((stage, i) =>
    stage.steps.map((s, b) => {
      const branch = stage.all ? b : undefined;
      const jobId = stepId(flowId, i, branch);
      return {
        ref: { stage: i, ...(branch === undefined ? {} : { branch }), actor: s.actor, jobId },
        queue: s.queue,
        decode: s.progress,
        keepsResult: stage.all || i === lastStage,
      };
    }),
  );
}

/** Where a step stands: its message's state, its last update, or its stored result. */
async function stepNow(
  broker: MessageBroker,
  updates: ReturnType<typeof checkUpdates>,
  step: Step,
): Promise<Now> {
  const id = step.ref.jobId;
  const [view, update, result] = await Promise.all([
    broker.admin?.job(step.queue, id),
    updates.readUpdate(step.queue, id),
    step.keepsResult ? broker.readResult(id, { queue: step.queue }) : undefined,
  ]);
  const last = update ? updateOf(update, step.decode) : undefined;
  const known =
    last?.progress === undefined ? {} : { progress: { value: last.progress, at: update!.at } };
  if (view) {
    const attempt = view.message.attempt;
    const state = view.state === "dead" ? "dead" : view.state === "running" ? "running" : "waiting";
    // As a job's watch shows it: a dead step without its progress (see job-watch.ts).
    const progress = state === "dead" || !known.progress ? {} : { progress: known.progress.value };
    return { update: { state, attempt, ...progress }, ...known };
  }
  if (result) {
    const failed = result.ok ? undefined : flowErrorOf(result.error);
    if (failed && !result.ok) return { failed: { step: failed.step, attempts: result.attempts } };
    return { update: fromResult(result, last), ...known };
  }
  return last ? { update: last, ...known } : {};
}

/**
 * The latest progress of the flow's current stage (of the step that reported last, in an
 * `all`), or `undefined`. Checks the broker first (throws `NotSupportedError`).
 */
export async function flowProgress(
  broker: MessageBroker,
  flowId: string,
  stages: readonly FlowStage[],
): Promise<unknown> {
  const updates = checkUpdates(broker);
  const steps = stepsOf(flowId, stages).flat();
  const now = await Promise.all(steps.map((s) => stepNow(broker, updates, s)));
  const failed = now.find((n) => n.failed)?.failed;
  let stage = failed ? failed.step.stage : -1;
  if (!failed) for (const [i, n] of now.entries()) if (n.update) stage = steps[i]!.ref.stage;
  let latest: Now["progress"];
  for (const [i, n] of now.entries()) {
    const ref = steps[i]!.ref;
    if (ref.stage !== stage || (failed && ref.jobId !== failed.step.jobId)) continue;
    if (n.progress && (latest === undefined || n.progress.at > latest.at)) latest = n.progress;
  }
  return latest?.value;
}

/**
 * The updates of a flow's current step until the flow ends (see `FlowHandle.watch`). Checks the
 * broker at once (throws `NotSupportedError`), then iterates lazily.
 */
export function watchFlow<P>(
  broker: MessageBroker,
  flowId: string,
  stages: readonly FlowStage[],
  options: { readonly signal?: AbortSignal },
): AsyncIterable<FlowProgressUpdate<P>> {
  const updates = checkUpdates(broker);
  const steps = stepsOf(flowId, stages);
  return {
    [Symbol.asyncIterator]: () =>
      iterate(broker, updates, steps, options) as AsyncIterator<FlowProgressUpdate<P>>,
  };
}

async function* iterate(
  broker: MessageBroker,
  updates: ReturnType<typeof checkUpdates>,
  stages: readonly Step[][],
  options: { readonly signal?: AbortSignal },
): AsyncGenerator<FlowProgressUpdate> {
  if (options.signal?.aborted) return;
  // One queue for every step keeps their updates in the order they arrive.
  const events = new WatchEvents<Event>(options.signal);
  try {
    const all = stages.flat();
    // Subscribe first, then read where the flow stands: nothing published in between is lost.
    for (const step of all) {
      const id = step.ref.jobId;
      await updates.watchUpdates(
        step.queue,
        id,
        (update) => events.push({ step, update }),
        events.signal,
      );
    }
    if (capabilitiesOf(broker).results) {
      for (const step of all.filter((s) => s.keepsResult))
        events.result(broker, step.ref.jobId, step.queue, (result) => ({ step, result }));
    }
    const flow = new FlowWatch(stages);
    const now = await Promise.all(all.map((s) => stepNow(broker, updates, s)));
    if (yield* flow.start(all, now)) return;
    for (;;) {
      const event = await events.next();
      if (event === "aborted") return;
      const over =
        "update" in event
          ? yield* flow.on(event.step, updateOf(event.update, event.step.decode))
          : yield* flow.result(event.step, event.result);
      if (over) return;
    }
  } finally {
    events.close();
  }
}

/** What a flow's watch has seen, and the updates each event gives; `true` when the flow ended. */
class FlowWatch {
  readonly #stages: readonly Step[][];
  #current = 0;
  readonly #last = new Map<Step, JobProgressUpdate<unknown>>();
  /** Steps of the current stage that succeeded. */
  readonly #done = new Set<Step>();

  constructor(stages: readonly Step[][]) {
    this.#stages = stages;
  }

  /** Where the flow stands: the furthest stage with a trace, each of its steps' state. */
  *start(all: readonly Step[], now: readonly Now[]): Generator<FlowProgressUpdate, boolean> {
    const failed = now.find((n) => n.failed)?.failed;
    if (failed) return yield* this.#failed(failed.step, failed.attempts);
    for (const [i, n] of now.entries()) if (n.update) this.#current = all[i]!.ref.stage;
    for (const [i, n] of now.entries()) {
      const step = all[i]!;
      if (n.update && step.ref.stage === this.#current && (yield* this.on(step, n.update)))
        return true;
    }
    return false;
  }

  /** An update of `step`: shown when its stage is current (a later stage becomes current). */
  *on(step: Step, next: JobProgressUpdate<unknown>): Generator<FlowProgressUpdate, boolean> {
    if (step.ref.stage < this.#current) return false;
    if (step.ref.stage > this.#current) {
      // The flow moved on: the steps of the stage it left succeeded, whether or not they said so.
      for (const s of this.#stages[this.#current]!) {
        if (this.#done.has(s)) continue;
        const last = this.#last.get(s);
        yield this.#tagged(s, fromResult({ ok: true, value: undefined, finishedAt: 0 }, last));
      }
      this.#current = step.ref.stage;
      this.#done.clear();
    }
    const last = this.#last.get(step);
    if (!(last && same(last, next))) {
      this.#last.set(step, next);
      yield this.#tagged(step, next);
    }
    if (next.state === "dead") return true;
    if (next.state !== "succeeded") return false;
    this.#done.add(step);
    const stage = this.#stages[this.#current]!;
    if (!stage.every((s) => this.#done.has(s))) return false;
    if (this.#current === this.#stages.length - 1) return true;
    this.#current++;
    this.#done.clear();
    return false;
  }

  /** A stored result: a step's end, or the flow's failure naming the step that failed. */
  *result(step: Step, result: StoredResult): Generator<FlowProgressUpdate, boolean> {
    const failed = result.ok ? undefined : flowErrorOf(result.error);
    if (failed && !result.ok) return yield* this.#failed(failed.step, result.attempts);
    return yield* this.on(step, fromResult(result, this.#last.get(step)));
  }

  *#failed(ref: FlowStepRef, attempts: number): Generator<FlowProgressUpdate, boolean> {
    const step = this.#stages.flat().find((s) => s.ref.jobId === ref.jobId);
    const progress = step ? this.#last.get(step)?.progress : undefined;
    yield {
      state: "dead",
      attempt: attempts,
      ...(progress === undefined ? {} : { progress }),
      step: ref,
    };
    return true;
  }

  #tagged(step: Step, update: JobProgressUpdate<unknown>): FlowProgressUpdate {
    return { ...update, step: step.ref };
  }
}

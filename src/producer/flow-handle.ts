/**
 * The handle of an enqueued flow: its result (the last step's, or the tuple of an `all`'s), the
 * state of each step, and cancelling it.
 */
import type { MessageBroker, StoredResult } from "../brokers/broker.js";
import { toMs, type Duration } from "../core/duration.js";
import { ResultTimeoutError, type FailureInfo } from "../core/errors.js";
import {
  FlowFailedError,
  flowErrorOf,
  flowFailure,
  stepId,
  type FailedStep,
} from "../core/flow-plan.js";

import type { FlowStage } from "./flow-step.js";
import { flowProgress, watchFlow, type FlowProgressUpdate } from "./flow-watch.js";

export type { FlowStage } from "./flow-step.js";

/** Where a step of a flow stands. */
export interface FlowStepState {
  /** 0 for the first stage. */
  readonly stage: number;
  /** The branch of an `all` stage. */
  readonly branch?: number;
  readonly actor: string;
  readonly queue: string;
  /** The step's job id. */
  readonly id: string;
  /**
   * `pending`: not enqueued yet (its previous step has not ended); `waiting`, `delayed`,
   * `running`; then `succeeded`, or `dead` (it failed for good, or was cancelled); `skipped`:
   * it never runs, as an earlier step failed.
   */
  readonly state: "pending" | "waiting" | "delayed" | "running" | "succeeded" | "dead" | "skipped";
}

const DEFAULT_RESULT_TIMEOUT_MS = 60_000;

export class FlowHandle<TResult> {
  /** The flow's id; its steps' job ids start with it. */
  readonly id: string;
  readonly #broker: MessageBroker;
  readonly #stages: readonly FlowStage[];
  readonly #decode: readonly ((value: unknown) => unknown)[];

  /** @internal made by `flow(...).enqueue()` */
  constructor(
    broker: MessageBroker,
    id: string,
    stages: readonly FlowStage[],
    decode: readonly ((value: unknown) => unknown)[],
  ) {
    this.#broker = broker;
    this.id = id;
    this.#stages = stages;
    this.#decode = decode;
  }

  /**
   * Waits, without polling, for the flow's result: at most `timeout` (default one minute).
   * @throws FlowFailedError when a step failed for good (naming it); ResultTimeoutError.
   */
  async result(
    options: { readonly timeout?: Duration; readonly signal?: AbortSignal } = {},
  ): Promise<TResult> {
    const timeoutMs = toMs(options.timeout ?? DEFAULT_RESULT_TIMEOUT_MS, "timeout");
    const last = this.#stages.length - 1;
    const stage = this.#stages[last]!;
    const ids = stage.steps.map((_, b) => stepId(this.id, last, stage.all ? b : undefined));
    const values = await Promise.all(
      stage.steps.map(async (step, b) => {
        const id = ids[b]!;
        const stored = await this.#broker.waitForResult(id, {
          timeoutMs,
          queue: step.queue,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (!stored) throw new ResultTimeoutError(id, timeoutMs);
        if (!stored.ok)
          throw this.#failure(stored.error, {
            stage: last,
            ...(stage.all ? { branch: b } : {}),
            actor: step.actor,
            jobId: id,
          });
        const value: unknown = stored.value === undefined ? undefined : JSON.parse(stored.value);
        return this.#decode[b]!(value);
      }),
    );
    return (stage.all ? values : values[0]) as TResult;
  }

  /**
   * The latest progress of the flow's current step (`ctx.progress` of the furthest step that has
   * started; in an `all`, of the branch that reported last), or `undefined`.
   * @throws NotSupportedError when the broker keeps no job updates (RabbitMQ).
   */
  progress<P = unknown>(): Promise<P | undefined> {
    return flowProgress(this.#broker, this.id, this.#stages) as Promise<P | undefined>;
  }

  /**
   * The updates of the flow's current step as the flow moves, each naming its step (`stage`,
   * `branch`, `actor`, `jobId`): where it stands first, then every change, a step's `succeeded`
   * before the next step's first update. Ends when the flow ends (its last step succeeded, or a
   * step is `dead`), or when `signal` aborts. `running`, `failed` and a chain step's own
   * `succeeded` are published only for flows enqueued with `watch: true`; without it a step
   * shows its progress, and its end when the next step shows anything.
   * @throws NotSupportedError at once when the broker keeps no job updates (RabbitMQ).
   */
  watch<P = unknown>(
    options: { readonly signal?: AbortSignal } = {},
  ): AsyncIterable<FlowProgressUpdate<P>> {
    return watchFlow<P>(this.#broker, this.id, this.#stages, options);
  }

  /** Each step's job id and state, stage by stage. */
  async steps(): Promise<FlowStepState[]> {
    const out: FlowStepState[] = [];
    for (const [i, stage] of this.#stages.entries()) {
      for (const [b, step] of stage.steps.entries()) {
        const branch = stage.all ? b : undefined;
        const id = stepId(this.id, i, branch);
        out.push({
          stage: i,
          ...(branch === undefined ? {} : { branch }),
          actor: step.actor,
          queue: step.queue,
          id,
          state: await this.#state(step.queue, id),
        });
      }
    }
    // A step whose result was not kept left no trace once done: a later step that exists says it.
    for (let i = out.length - 1, later = false; i >= 0; i--) {
      const s = out[i]!;
      if (later && s.state === "pending") out[i] = { ...s, state: "succeeded" };
      later ||= s.state !== "pending";
    }
    return out;
  }

  /**
   * Cancels the flow: its waiting steps are removed, its running ones cancelled (dead-lettered
   * `CANCELLED`), and `result()` rejects with `FlowFailedError`. Needs the broker's admin.
   */
  async cancel(): Promise<void> {
    const admin = this.#broker.admin;
    for (const [i, stage] of this.#stages.entries()) {
      for (const [b, step] of stage.steps.entries()) {
        await admin?.cancel(step.queue, stepId(this.id, i, stage.all ? b : undefined));
      }
    }
    const last = this.#stages.length - 1;
    const stage = this.#stages[last]!;
    const error: FailureInfo = {
      name: "JobCancelledError",
      code: "CANCELLED",
      message: "the flow was cancelled",
    };
    for (const [b, step] of stage.steps.entries()) {
      const jobId = stepId(this.id, last, stage.all ? b : undefined);
      const failed: FailedStep = { stage: last, actor: step.actor, jobId };
      const stored: StoredResult = {
        ok: false,
        error: flowFailure(this.id, failed, error),
        attempts: 0,
        finishedAt: Date.now(),
      };
      await this.#broker.storeResult?.(jobId, { stored, ttlMs: 86_400_000 }, { queue: step.queue });
    }
  }

  #failure(error: FailureInfo, step: FailedStep): FlowFailedError {
    return flowErrorOf(error) ?? new FlowFailedError(this.id, step, error);
  }

  async #state(queue: string, id: string): Promise<FlowStepState["state"]> {
    const view = await this.#broker.admin?.job(queue, id);
    if (view) return view.state === "ready" ? "waiting" : view.state;
    const stored = await this.#broker.readResult(id, { queue });
    if (stored?.ok) return "succeeded";
    if (stored)
      return flowErrorOf(stored.error)?.step.jobId === id || !flowErrorOf(stored.error)
        ? "dead"
        : "skipped";
    return "pending";
  }
}

/**
 * A flow as its messages carry it (producers write it, workers read it): the header naming the
 * flow, where this step stands and what comes after it, the ids of its steps, and the error a
 * failed flow ends with.
 */
import { RepidError, type FailureInfo } from "./errors.js";

/** The message header that carries a step's place in its flow (JSON of `FlowHeader`). */
export const FLOW_HEADER = "repid-flow";

/** One step after the current one: its actor and queue, and the options it runs with. */
export interface NextStep {
  /** actor */
  readonly a: string;
  /** queue */
  readonly q: string;
  /** priority 0-2 */
  readonly p?: number;
  /** retries */
  readonly r?: number;
  /** timeout ms */
  readonly t?: number;
  /** the actor's schema fingerprint, sent as its schema header */
  readonly h?: string;
}

export interface FlowHeader {
  /** flow id */
  readonly f: string;
  /** index of this step's stage (0 first) */
  readonly i: number;
  /** branch of an `all` stage, with `n` branches on queues `bq` */
  readonly b?: number;
  readonly n?: number;
  readonly bq?: readonly string[];
  /** actor names of the branches (to name a failed one) */
  readonly ba?: readonly string[];
  /** ms the flow's results are kept, and the dedupe window of its steps */
  readonly k: number;
  /** the stages after this one (one step each) */
  readonly next: readonly NextStep[];
  /** 1 when the flow is watched: each step carries the watch header (core/watch.ts) */
  readonly w?: 1;
}

/** Id of stage `stage`'s step (or of its branch `branch`). */
export function stepId(flow: string, stage: number, branch?: number): string {
  return branch === undefined ? `${flow}~${stage}` : `${flow}~${stage}.${branch}`;
}

export function readFlowHeader(
  headers: Readonly<Record<string, string>> | undefined,
): FlowHeader | undefined {
  const text = headers?.[FLOW_HEADER];
  if (text === undefined) return undefined;
  try {
    const h = JSON.parse(text) as FlowHeader;
    return typeof h.f === "string" && Number.isInteger(h.i) && Array.isArray(h.next)
      ? h
      : undefined;
  } catch {
    return undefined;
  }
}

/** Where a step failed, as a failed flow's stored error names it. */
export interface FailedStep {
  readonly stage: number;
  readonly branch?: number;
  readonly actor: string;
  readonly jobId: string;
}

/**
 * A step of a flow was dead-lettered (or cancelled): the flow's result is this error, and the
 * steps after it never run. `step` names it; `remote` is its own failure.
 */
export class FlowFailedError extends RepidError {
  readonly flowId: string;
  readonly step: FailedStep;
  readonly remote: FailureInfo;

  constructor(flowId: string, step: FailedStep, remote: FailureInfo) {
    const where =
      step.branch === undefined
        ? `step ${step.stage + 1}`
        : `step ${step.stage + 1}, branch ${step.branch + 1}`;
    super(
      "FLOW_FAILED",
      `Flow "${flowId}" failed at ${where} (${step.actor}, job "${step.jobId}"): ${remote.name}: ${remote.message}`,
    );
    this.flowId = flowId;
    this.step = step;
    this.remote = remote;
  }
}

/** The stored failure of a flow whose step failed: FLOW_FAILED, the step as JSON in `message`. */
export function flowFailure(flowId: string, step: FailedStep, remote: FailureInfo): FailureInfo {
  return {
    name: "FlowFailedError",
    code: "FLOW_FAILED",
    message: JSON.stringify({ flowId, step, remote }),
  };
}

/** The error a stored FLOW_FAILED failure stands for, or `undefined` for another failure. */
export function flowErrorOf(stored: FailureInfo): FlowFailedError | undefined {
  if (stored.code !== "FLOW_FAILED") return undefined;
  try {
    const { flowId, step, remote } = JSON.parse(stored.message) as {
      flowId: string;
      step: FailedStep;
      remote: FailureInfo;
    };
    return new FlowFailedError(flowId, step, remote);
  } catch {
    return undefined;
  }
}

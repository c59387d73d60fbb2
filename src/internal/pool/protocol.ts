import type { FailureInfo } from "../../brokers/broker.js";

/** Parent to executor: run one actor call. */
export interface RunRequest {
  readonly type: "run";
  readonly module: string;
  readonly actor: string;
  /**
   * The arguments, already parsed (and validated by the registry when there is one). They travel
   * by structured clone, so values a schema produced (a `Date`, say) arrive intact.
   */
  readonly args: unknown;
  readonly jobId: string;
  readonly attempt: number;
  readonly queue: string;
}

/** Executor to parent: how the call ended. */
export type RunReply =
  | { readonly type: "done"; readonly ok: true; readonly value: string | undefined }
  | { readonly type: "done"; readonly ok: false; readonly error: FailureInfo };

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
  readonly headers: Readonly<Record<string, string>>;
}

/** Parent to executor: abort the call in progress (its `ctx.signal` fires with this reason). */
export interface AbortRequest {
  readonly type: "abort";
  readonly reason: { readonly name: string; readonly message: string };
}

export type ParentMessage = RunRequest | AbortRequest;

/** Executor to parent: how the call ended, or an error thrown outside any call. */
export type RunReply =
  | {
      readonly type: "done";
      readonly ok: true;
      readonly value: string | undefined;
      /** The "sync" actor handed back a promise (it should have been declared `async`). */
      readonly promise?: true;
    }
  | { readonly type: "done"; readonly ok: false; readonly error: FailureInfo }
  | { readonly type: "uncaught"; readonly error: FailureInfo }
  /** The actor's module is loaded and the call begins now (its timeout counts from here). */
  | { readonly type: "started" }
  /** The call in progress reported progress (`ctx.progress`): the value as JSON text. */
  | { readonly type: "progress"; readonly value: string };

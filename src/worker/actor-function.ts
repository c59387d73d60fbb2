/**
 * What an actor receives besides its arguments. `P` is the type of the progress values it
 * reports (`JobContext<P>` from the package root names the same type).
 */
export interface ActorContext<P = unknown> {
  readonly jobId: string;
  /** 1 on the first run, 2 on the first retry, ... */
  readonly attempt: number;
  readonly queue: string;
  readonly actor: string;
  /** Aborted when the attempt times out or the worker is forced to stop. */
  readonly signal: AbortSignal;
  /** The message's headers (metadata set by `onEnqueue` hooks, e.g. trace context). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Reports progress (a JSON value) to whoever watches the job (`handle.progress()`,
   * `handle.watch()`). On a broker without job updates, or in a thread or process actor, it
   * does nothing.
   */
  progress(value: P): Promise<void>;
}

/** Any function an actor can be: one JSON argument (or none) and the context. */
export type ActorFunction<TArgs = any, TResult = unknown> = (
  args: TArgs,
  context: ActorContext,
) => TResult;

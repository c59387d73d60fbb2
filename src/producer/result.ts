import type { MessageBroker, StoredResult } from "../brokers/broker.js";
import { toMs, type Duration } from "../core/duration.js";
import { JobFailedError, ResultNotStoredError, ResultTimeoutError } from "../core/errors.js";
import { readProgress, watchJob, type JobProgressUpdate } from "./job-watch.js";

/** How long `result()` waits when given no `timeout`. */
export const DEFAULT_RESULT_TIMEOUT_MS = 60_000;

/**
 * The progress type a handle's `progress()` and `watch()` give: the actor's declared one (from the
 * generated client), else `P`, which the caller names (`unknown` unless it does).
 */
export type ProgressOf<TProgress, P> = unknown extends TProgress ? P : TProgress;

/**
 * What `enqueue()` returns: the message id, and a way to await the job's result. `TProgress` is
 * the actor's progress type when the generated client knows it.
 */
// `out`: a handle of a typed actor is a handle (`JobHandle<R, P>` fits `JobHandle<R>`); the
// compiler cannot measure that through `ProgressOf` alone.
export class JobHandle<TResult = unknown, out TProgress = unknown> {
  readonly id: string;
  readonly queue: string;
  /** False when a unique job with this id already existed, so nothing new was added. */
  readonly created: boolean;
  /**
   * Whether a result will be stored for `result()` to return: `true` when the job asked for one
   * (`storeResult`, or the registry says its actor keeps results), `false` when the registry says
   * its actor keeps none (then `result()` fails at once), `undefined` when the producer cannot
   * tell (a plain `Job` whose actor may store results on its own).
   */
  readonly storesResult: boolean | undefined;
  /** The actor, when known (for error messages). */
  readonly actor: string | undefined;
  readonly #broker: MessageBroker;
  readonly #decode: ResultDecoder<TResult> | undefined;
  readonly #decodeProgress: ResultDecoder<TProgress> | undefined;

  /**
   * @param decode turns the stored JSON value into the result (the registry's result schema).
   * @param known what the producer knows about the job's result (see `storesResult`).
   * @param decodeProgress turns a stored progress value into its type (the registry's progress
   * schema).
   */
  constructor(
    broker: MessageBroker,
    queue: string,
    id: string,
    created: boolean,
    decode?: ResultDecoder<TResult>,
    known: { readonly storesResult?: boolean; readonly actor?: string } = {},
    decodeProgress?: ResultDecoder<TProgress>,
  ) {
    this.#broker = broker;
    this.queue = queue;
    this.id = id;
    this.created = created;
    this.#decode = decode;
    this.#decodeProgress = decodeProgress;
    this.storesResult = known.storesResult;
    this.actor = known.actor;
  }

  /** The same handle, decoding its result with `decode` (and its progress with `progress`). */
  withDecoder<T, P = unknown>(
    decode: ResultDecoder<T>,
    known: { readonly storesResult?: boolean; readonly actor?: string } = this,
    progress?: ResultDecoder<P>,
  ): JobHandle<T, P> {
    return new JobHandle<T, P>(
      this.#broker,
      this.queue,
      this.id,
      this.created,
      decode,
      {
        ...(known.storesResult !== undefined ? { storesResult: known.storesResult } : {}),
        ...(known.actor !== undefined ? { actor: known.actor } : {}),
      },
      progress,
    );
  }

  /**
   * Waits, without polling, until the job's result is stored, and returns it: at most `timeout`
   * (default one minute), or until `signal` aborts. A result is stored when the job was enqueued
   * with `storeResult` or its actor keeps results (the actor's `storeResult` option).
   * @throws ResultNotStoredError at once when the job is known to store no result (see
   * `storesResult`); JobFailedError when the job failed for good; ResultTimeoutError after
   * `timeout` (or when `signal` aborts).
   */
  async result(
    options: { readonly timeout?: Duration; readonly signal?: AbortSignal } = {},
  ): Promise<TResult> {
    if (this.storesResult === false) throw new ResultNotStoredError(this.id, this.actor);
    const timeoutMs = toMs(options.timeout ?? DEFAULT_RESULT_TIMEOUT_MS, "timeout");
    const stored = await this.#broker.waitForResult(this.id, {
      timeoutMs,
      ...(this.queue !== "" ? { queue: this.queue } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!stored) {
      // The producer could not tell whether anything keeps this job's result: say what to check.
      const hint =
        this.storesResult === undefined
          ? "a result is kept only when the job is enqueued with `storeResult` or its actor has the `storeResult` option"
          : undefined;
      throw new ResultTimeoutError(this.id, timeoutMs, hint);
    }
    return unwrapResult<TResult>(this.id, stored, this.#decode);
  }

  /**
   * The last progress value the job's actor reported (`ctx.progress`), or `undefined`. Typed by
   * the actor's `JobContext<P>` on a handle of the generated client; elsewhere name the type
   * (`progress<{ done: number }>()`).
   * @throws NotSupportedError when the broker keeps no job updates (RabbitMQ); ValidationError
   * when the value does not fit the registry's progress schema.
   */
  progress<P = TProgress>(): Promise<ProgressOf<TProgress, P> | undefined> {
    return readProgress(this.#broker, this.queue, this.id, this.#decodeProgress) as Promise<
      ProgressOf<TProgress, P> | undefined
    >;
  }

  /**
   * Every change of the job until it ends: `{ state, attempt, progress? }`, first where it
   * stands now. `running`, `failed` (an attempt failed and will be retried), `succeeded` and
   * `dead` are published only for jobs enqueued with `watch: true`; the iteration ends after
   * `succeeded` or `dead` (also seen in the job's stored result), or when `signal` aborts.
   * `progress` is typed (and decoded) as `progress()` says.
   * @throws NotSupportedError at once when the broker keeps no job updates (RabbitMQ); the
   * iteration throws ValidationError for a progress value that does not fit the registry's schema.
   */
  watch<P = TProgress>(
    options: { readonly signal?: AbortSignal } = {},
  ): AsyncIterable<JobProgressUpdate<ProgressOf<TProgress, P>>> {
    return watchJob<ProgressOf<TProgress, P>>(this.#broker, this.queue, this.id, {
      ...(options.signal ? { signal: options.signal } : {}),
      results: this.storesResult !== false,
      ...(this.#decodeProgress
        ? { decode: this.#decodeProgress as ResultDecoder<ProgressOf<TProgress, P>> }
        : {}),
    });
  }
}

/** Turns a result's JSON value into its typed form (for example a zod schema's `parse`). */
export type ResultDecoder<TResult> = (value: unknown) => TResult;

export function unwrapResult<TResult>(
  id: string,
  stored: StoredResult,
  decode?: ResultDecoder<TResult>,
): TResult {
  if (!stored.ok) throw new JobFailedError(id, stored.error, stored.attempts);
  const value: unknown = stored.value === undefined ? undefined : JSON.parse(stored.value);
  return decode ? decode(value) : (value as TResult);
}

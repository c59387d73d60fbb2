import type { MessageBroker, StoredResult } from "./brokers/broker.js";
import { toMs, type Duration } from "./duration.js";
import { JobFailedError, ResultTimeoutError } from "./errors.js";

/** What `enqueue()` returns: the message id, and a way to await the job's result. */
export class JobHandle<TResult = unknown> {
  readonly id: string;
  readonly queue: string;
  /** False when a unique job with this id already existed, so nothing new was added. */
  readonly created: boolean;
  readonly #broker: MessageBroker;
  readonly #decode: ResultDecoder<TResult> | undefined;

  /** @param decode turns the stored JSON value into the result (the registry's result schema). */
  constructor(
    broker: MessageBroker,
    queue: string,
    id: string,
    created: boolean,
    decode?: ResultDecoder<TResult>,
  ) {
    this.#broker = broker;
    this.queue = queue;
    this.id = id;
    this.created = created;
    this.#decode = decode;
  }

  /** The same handle, decoding its result with `decode`. */
  withDecoder<T>(decode: ResultDecoder<T>): JobHandle<T> {
    return new JobHandle<T>(this.#broker, this.queue, this.id, this.created, decode);
  }

  /**
   * Waits, without polling, until the job's result is stored, and returns it. The job must have
   * been enqueued with `storeResult` (or its actor must store results).
   * @throws JobFailedError when the job failed for good; ResultTimeoutError after `timeout`.
   */
  async result(
    options: { readonly timeout?: Duration; readonly signal?: AbortSignal } = {},
  ): Promise<TResult> {
    const timeoutMs = toMs(options.timeout ?? 60_000, "timeout");
    const stored = await this.#broker.waitForResult(this.id, {
      timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!stored) throw new ResultTimeoutError(this.id, timeoutMs);
    return unwrapResult<TResult>(this.id, stored, this.#decode);
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

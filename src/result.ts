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

  constructor(broker: MessageBroker, queue: string, id: string, created: boolean) {
    this.#broker = broker;
    this.queue = queue;
    this.id = id;
    this.created = created;
  }

  /**
   * Waits, without polling, until the job's result is stored, and returns it. The job must have
   * been enqueued with `storeResult` (or its actor must store results).
   * @throws JobFailedError when the job failed for good; ResultTimeoutError after `timeout`.
   */
  async result(options: { readonly timeout?: Duration; readonly signal?: AbortSignal } = {}): Promise<TResult> {
    const timeoutMs = toMs(options.timeout ?? 60_000, "timeout");
    const stored = await this.#broker.waitForResult(this.id, {
      timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!stored) throw new ResultTimeoutError(this.id, timeoutMs);
    return unwrapResult<TResult>(this.id, stored);
  }
}

export function unwrapResult<TResult>(id: string, stored: StoredResult): TResult {
  if (!stored.ok) throw new JobFailedError(id, stored.error, stored.attempts);
  return (stored.value === undefined ? undefined : JSON.parse(stored.value)) as TResult;
}

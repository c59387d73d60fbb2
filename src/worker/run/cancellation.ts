import { JobTimeoutError } from "../../core/errors.js";

/**
 * Like an AbortController, but the AbortSignal (costly to create on a hot path) is made only
 * when someone asks for it; most actors never look at `ctx.signal`. It also carries the
 * attempt's deadline, which the worker checks for all running jobs on one shared timer instead
 * of one timer per job.
 */
export class Cancellation {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #listener: ((reason: unknown) => void) | undefined;
  /** Epoch ms after which the attempt times out; Infinity until set. */
  deadline = Infinity;
  timeoutMs = 0;
  #release: (() => void) | undefined;
  #released = false;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Starts the clock: the attempt is aborted with a `JobTimeoutError` after `timeoutMs`. */
  startTimer(timeoutMs: number, now = Date.now()): void {
    this.timeoutMs = timeoutMs;
    this.deadline = now + timeoutMs;
  }

  /** Aborts with a `JobTimeoutError` if the deadline has passed; true when it did. */
  checkDeadline(now: number): boolean {
    if (this.#aborted || now < this.deadline) return false;
    this.abort(new JobTimeoutError(this.timeoutMs));
    return true;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.(reason);
  }

  /**
   * Waits for the body of an aborted async actor to end (it cannot be stopped from outside), or
   * for `release()`: until then its attempt holds its slot, its lease and its settlement.
   */
  linger(body: Promise<unknown>): Promise<void> {
    if (this.#released) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => resolve();
      this.#release = done;
      body.then(done, done);
    });
  }

  /** Stops waiting for an aborted body (a forced stop): its attempt settles now. */
  release(): void {
    this.#released = true;
    this.#release?.();
  }

  /** Sets the one abort listener (the executor racing the actor). */
  onAbort(listener: (reason: unknown) => void): void {
    this.#listener = listener;
  }

  offAbort(): void {
    this.#listener = undefined;
  }
}

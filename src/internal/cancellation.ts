import { JobTimeoutError } from "../errors.js";

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
  /**
   * An async actor's body that was still running when its attempt was aborted (a timeout, a
   * cancellation, a lost lease): it cannot be stopped from outside, so the worker keeps a slot
   * for it until it settles.
   */
  lingering: Promise<unknown> | undefined;
  timeoutMs = 0;

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

  /** Sets the one abort listener (the executor racing the actor). */
  onAbort(listener: (reason: unknown) => void): void {
    this.#listener = listener;
  }

  offAbort(): void {
    this.#listener = undefined;
  }
}

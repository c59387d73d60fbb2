import { setLongTimeout, type LongTimer } from "../../core/timers.js";

/**
 * The in-memory broker's one timer for delayed messages: armed for the earliest due time it was
 * told of, it calls `onDue` then (which promotes what is due and arms it for the next one).
 */
export class DelayTimer {
  readonly #onDue: () => void;
  #timer: LongTimer | undefined;
  #at = Infinity;

  constructor(onDue: () => void) {
    this.#onDue = onDue;
  }

  /** Fires at `at` unless already armed for an earlier time. */
  arm(at: number): void {
    if (at >= this.#at) return;
    this.#timer?.clear();
    this.#at = at;
    // A long timer: a plain one past 2^31-1 ms (24.8 days: a monthly cron) fires at once.
    this.#timer = setLongTimeout(
      () => {
        this.#timer = undefined;
        this.#at = Infinity;
        this.#onDue();
      },
      Math.max(0, at - Date.now()),
      true,
    );
  }

  clear(): void {
    this.#timer?.clear();
    this.#timer = undefined;
    this.#at = Infinity;
  }
}

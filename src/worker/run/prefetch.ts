/**
 * How many messages a worker receives ahead of its free slots. A number is used as it is. `"auto"`
 * (the default) holds about what the worker will start in the next few milliseconds, measured
 * from the jobs it started lately: workers of slow jobs keep the floor (a message waiting in one
 * worker's buffer is one another worker cannot take, and a higher priority arriving meanwhile
 * runs after it), while workers of fast jobs fetch larger batches, so that each round trip and
 * each script call is shared by more jobs. At concurrency 10 with no-op jobs, 40 ahead instead of
 * 10 served the first 20,000 jobs of a fresh worker about 40% faster (docs/benchmarks.md).
 */
export type PrefetchSetting = number | "auto";

/** The fewest `"auto"` holds ahead: the fixed default of earlier versions. */
export const AUTO_FLOOR = 10;
/** `"auto"` holds at most this many times the concurrency ahead, and never more than AUTO_MAX. */
const AUTO_PER_SLOT = 4;
const AUTO_MAX = 1_000;
/** How much work `"auto"` keeps ahead, in ms of the recent start rate. */
const AHEAD_MS = 5;
/** The start rate is counted over windows this long; the last full one decides. */
const WINDOW_MS = 20;

export class Prefetch {
  readonly #setting: PrefetchSetting;
  readonly #ceiling: number;
  readonly #now: () => number;
  #windowStart: number;
  #startedInWindow = 0;
  /** Jobs started per ms over the last full window. */
  #rate = 0;

  constructor(setting: PrefetchSetting, concurrency: number, now = () => performance.now()) {
    this.#setting = setting;
    this.#ceiling = Math.max(AUTO_FLOOR, Math.min(AUTO_MAX, AUTO_PER_SLOT * concurrency));
    this.#now = now;
    this.#windowStart = now();
  }

  /** A job started. */
  started(): void {
    this.#startedInWindow++;
  }

  /** Messages to hold ahead of free slots now. */
  size(): number {
    if (this.#setting !== "auto") return this.#setting;
    const now = this.#now();
    const elapsed = now - this.#windowStart;
    if (elapsed >= WINDOW_MS) {
      this.#rate = this.#startedInWindow / elapsed;
      this.#startedInWindow = 0;
      this.#windowStart = now;
    }
    const ahead = Math.ceil(this.#rate * AHEAD_MS);
    return Math.min(this.#ceiling, Math.max(AUTO_FLOOR, ahead));
  }
}

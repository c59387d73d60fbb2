/**
 * How many messages a worker receives ahead of its free slots. A number is used as it is. `"auto"`
 * (the default) holds about what the worker's slots start in the next few milliseconds at the
 * pace its jobs run (their average duration lately): workers of slow jobs keep the floor (a
 * message waiting in one worker's buffer is one another worker cannot take, and a higher priority
 * arriving meanwhile runs after it), while workers of fast jobs fetch larger batches, so that
 * each round trip and each script call is shared by more jobs. The jobs' own duration decides,
 * not the rate the worker reached: a fresh worker, slow while its code is not yet optimized,
 * would otherwise keep itself slow with small batches. A fresh worker at concurrency 10 served
 * its first 20,000 no-op jobs at 20-21k/s with 10 ahead, 27-31k/s with 40 and 44k/s with 160
 * (one run, docs/benchmarks.md). The ceiling per slot bounds what a worker holds when its jobs
 * suddenly slow down: at most 16 jobs per slot wait behind the running ones.
 */
export type PrefetchSetting = number | "auto";

/** The fewest `"auto"` holds ahead: the fixed default of earlier versions. */
export const AUTO_FLOOR = 10;
/** `"auto"` holds at most this many times the concurrency ahead, and never more than AUTO_MAX. */
const AUTO_PER_SLOT = 16;
const AUTO_MAX = 1_000;
/** How much work `"auto"` keeps ahead, in ms of its slots' time. */
const AHEAD_MS = 5;
/** Weight of the latest job in the average duration. */
const WEIGHT = 0.1;

export class Prefetch {
  readonly #setting: PrefetchSetting;
  readonly #concurrency: number;
  readonly #ceiling: number;
  /** Average duration of the jobs run lately, ms; undefined before the first. */
  #averageMs: number | undefined;

  constructor(setting: PrefetchSetting, concurrency: number) {
    this.#setting = setting;
    this.#concurrency = concurrency;
    this.#ceiling = Math.max(AUTO_FLOOR, Math.min(AUTO_MAX, AUTO_PER_SLOT * concurrency));
  }

  /** A job ran for `ms` (from its start to its outcome). */
  ran(ms: number): void {
    const a = this.#averageMs;
    this.#averageMs = a === undefined ? ms : a + (ms - a) * WEIGHT;
  }

  /** Messages to hold ahead of free slots now. */
  size(): number {
    if (this.#setting !== "auto") return this.#setting;
    const a = this.#averageMs;
    if (a === undefined) return AUTO_FLOOR;
    const ahead = a <= 0 ? Infinity : Math.ceil((this.#concurrency * AHEAD_MS) / a);
    return Math.min(this.#ceiling, Math.max(AUTO_FLOOR, ahead));
  }
}

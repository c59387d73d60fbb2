import type { FailureInfo } from "../../brokers/broker.js";
import type { Logger } from "../../core/logger.js";

/** The count in a `SCHEMA_MISMATCH` message (see `SchemaMismatchError`). */
const SEEN_COUNT = / \(message \d+ of schema [0-9a-f]+ seen by this worker\)/;

/** Repeats of the same failure within this window are summarised in one line. */
const WINDOW_MS = 10_000;

interface Streak {
  readonly first: number;
  repeats: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The worker's default failure lines: every failed attempt at warn and every dead letter at error,
 * with id, actor, queue, attempt and the error. The same failure (actor, outcome, error name and
 * message) repeating within 10 s is logged once, then summarised as a count when the window ends,
 * so a poison batch cannot flood the log.
 */
export class FailureLog {
  readonly #logger: Logger;
  readonly #streaks = new Map<string, Streak>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  failed(
    kind: "retried" | "dead-lettered" | "failed",
    job: JobRef,
    error: FailureInfo,
    extra = "",
  ): void {
    const level = kind === "dead-lettered" ? "error" : "warn";
    // A schema mismatch says how many messages of its schema came so far: the same failure.
    const same = error.message.replace(SEEN_COUNT, "");
    const key = `${kind}\u0000${job.actor}\u0000${error.name}\u0000${same}`;
    const streak = this.#streaks.get(key);
    if (streak) {
      streak.repeats++;
      return;
    }
    const what =
      kind === "dead-lettered"
        ? "was dead-lettered"
        : kind === "retried"
          ? "failed and will be retried"
          : "failed";
    this.#logger[level](
      `repid: job "${job.id}" (actor "${job.actor}", queue "${job.queue}", attempt ${job.attempt}) ${what}: ${error.code ? `[${error.code}] ` : ""}${error.name}: ${error.message}${extra}`,
      { id: job.id, actor: job.actor, queue: job.queue, attempt: job.attempt, error },
    );
    const entry: Streak = { first: Date.now(), repeats: 0, timer: undefined };
    entry.timer = setTimeout(() => {
      this.#streaks.delete(key);
      if (entry.repeats > 0) {
        this.#logger[level](
          `repid: ${entry.repeats} more job(s) of actor "${job.actor}" ${what} with the same error in the last ${Math.round(WINDOW_MS / 1000)} s: ${error.name}: ${error.message}`,
          { actor: job.actor, queue: job.queue, repeats: entry.repeats, error },
        );
      }
    }, WINDOW_MS);
    entry.timer.unref();
    this.#streaks.set(key, entry);
  }

  /** Logs pending summaries now (at the end of a run). */
  flush(): void {
    for (const [key, streak] of this.#streaks) {
      clearTimeout(streak.timer);
      streak.timer?.unref();
      this.#streaks.delete(key);
      if (streak.repeats > 0) {
        const [kind, actor, name, message] = key.split("\u0000");
        this.#logger[kind === "dead-lettered" ? "error" : "warn"](
          `repid: ${streak.repeats} more job(s) of actor "${actor}" ${kind === "dead-lettered" ? "were dead-lettered" : "failed"} with the same error: ${name}: ${message}`,
          { actor, repeats: streak.repeats },
        );
      }
    }
  }
}

export interface JobRef {
  readonly id: string;
  readonly actor: string;
  readonly queue: string;
  readonly attempt: number;
}

import { Cron } from "croner";
import { InvalidOptionError } from "./errors.js";

/** Recurrence of a periodic job; after every run the message is rescheduled from it. */
export interface Schedule {
  /** A cron expression (5 or 6 fields), evaluated in UTC. */
  readonly cron?: string;
  /** A fixed interval in milliseconds. */
  readonly everyMs?: number;
}

const cache = new Map<string, Cron>();

function cronOf(expression: string): Cron {
  let cron = cache.get(expression);
  if (!cron) {
    try {
      cron = new Cron(expression, { timezone: "UTC", paused: true });
    } catch (error) {
      throw new InvalidOptionError(
        "cron",
        `cannot parse ${JSON.stringify(expression)}: ${(error as Error).message}`,
      );
    }
    if (cache.size > 1000) cache.clear();
    cache.set(expression, cron);
  }
  return cron;
}

/**
 * Checks a cron expression: throws `InvalidOptionError` when it does not parse, or when no date
 * ever matches it (`0 0 30 2 *`, February 30th), which would otherwise run once at once and
 * never again.
 */
export function checkCron(expression: string): string {
  if (cronOf(expression).nextRun(new Date()) === null) {
    throw new InvalidOptionError(
      "cron",
      `${JSON.stringify(expression)} never fires: no date matches it`,
    );
  }
  return expression;
}

/**
 * The next time a periodic job is due strictly after `afterMs`. Interval schedules are anchored
 * on `anchorMs` (the previous due time), so runs never drift by however long each run took.
 */
export function nextRunAt(
  schedule: Schedule,
  afterMs: number,
  anchorMs: number,
): number | undefined {
  if (schedule.cron !== undefined) {
    return cronOf(schedule.cron).nextRun(new Date(afterMs))?.getTime();
  }
  if (schedule.everyMs !== undefined && schedule.everyMs > 0) {
    const steps = Math.max(1, Math.floor((afterMs - anchorMs) / schedule.everyMs) + 1);
    return anchorMs + steps * schedule.everyMs;
  }
  return undefined;
}

/**
 * Limits on the Postgres broker (see ./limits-sql.ts for the SQL): declaring them, and reading
 * what waits for them into counts and job views.
 */
import type pg from "pg";
import { rateWindowMs, type TopicLimits } from "../../core/limits.js";
import type { HeldBy, QueueCounts } from "../records.js";
import { wrapPg } from "./pg-errors.js";

/** A topic's limits as `declare_limits` takes them (`null` removes them). */
export function encodeLimits(limits: TopicLimits | undefined): string | null {
  if (limits === undefined) return null;
  const { concurrency: c, rateLimit: r } = limits;
  return JSON.stringify({
    ...(c ? { c: { limit: c.limit, ...(c.key !== undefined ? { key: c.key } : {}) } } : {}),
    ...(r
      ? {
          r: {
            limit: r.limit,
            perMs: r.perMs,
            windowMs: rateWindowMs(r.perMs),
            ...(r.key !== undefined ? { key: r.key } : {}),
          },
        }
      : {}),
  });
}

/** Sets (or removes) the limits of `topic` on `queue`; receivers of the queue are woken. */
export async function declareLimits(
  pool: pg.Pool,
  s: string,
  queue: string,
  topic: string,
  limits: TopicLimits | undefined,
): Promise<void> {
  await wrapPg(
    "declaring limits",
    () =>
      pool.query(`SELECT ${s}.declare_limits($1, $2, $3::jsonb)`, [
        queue,
        topic,
        encodeLimits(limits),
      ]),
    true,
  );
}

/**
 * CTEs deleting what limits keep of the queue `$1`: its rate windows and turns (a flush), and
 * with `declared` its limits too (the queue is deleted; limits are kept for a queue not declared
 * yet, so they do not hang on the queues table by a foreign key).
 */
export function limitRows(s: string, declared: boolean): string {
  return `${declared ? `l AS (DELETE FROM ${s}.limits WHERE queue = $1), ` : ""}
    st AS (DELETE FROM ${s}.limit_starts WHERE queue = $1),
    tu AS (DELETE FROM ${s}.limit_turns WHERE queue = $1)`;
}

/** Counts as `counts(...)` returns them: `limited` and `limitedBy` only when some wait. */
export function decodeCounts(c: QueueCounts): QueueCounts {
  const out = { ready: c.ready, delayed: c.delayed, running: c.running, dead: c.dead };
  if (!c.limited) return out;
  return { ...out, limited: Number(c.limited), limitedBy: c.limitedBy ?? {} };
}

/** The columns of `limit_plan` a job view reads, `held` NULL when no limit holds the job. */
export interface HeldRow {
  held: "concurrency" | "rateLimit" | null;
  held_key: string | null;
  held_max: number | null;
}

export function heldByOf(r: HeldRow): HeldBy | undefined {
  if (r.held === null) return undefined;
  return { limit: r.held, key: r.held_key ?? "", max: Number(r.held_max ?? 0) };
}

/**
 * The header that asks workers to publish a job's lifecycle (running, failed, succeeded, dead)
 * as job updates, for `JobHandle.watch()`. Jobs without it pay nothing; `ctx.progress` is
 * published for every job.
 */
export const WATCH_HEADER = "repid-watch";

/** How long a job's last update is kept, when nothing says otherwise: one day. */
export const UPDATE_TTL_MS = 86_400_000;

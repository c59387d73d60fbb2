/**
 * Job updates (progress and lifecycle, see `MessageBroker.publishUpdate`): the last update of a
 * job is a row of `<schema>.updates` until its time to live ends; each publish also sends
 * `pg_notify('<schema>.updates', ...)` with the update itself (or, past what a notification
 * carries, only the job, whose watchers then read the row), which ./notifications.ts hands to
 * the job's watchers.
 */
import type pg from "pg";
import type { JobUpdate } from "../broker.js";
import type { Notifications } from "./notifications.js";
import { updateChannel, type UpdateNote } from "./channels.js";
import { wrapPg } from "./pg-errors.js";

/** Notification payloads stay under Postgres's 8000 bytes. */
const MAX_INLINE = 7000;

export const updateTables = (s: string): string => `
CREATE TABLE ${s}.updates (
  queue text NOT NULL,
  id text NOT NULL,
  update jsonb NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (queue, id)
);
CREATE INDEX updates_expiry ON ${s}.updates (expires_at);
`;

export class JobUpdates {
  readonly #pool: () => pg.Pool;
  readonly #s: string;
  readonly #notifications: Notifications;

  constructor(pool: () => pg.Pool, s: string, notifications: Notifications) {
    this.#pool = pool;
    this.#s = s;
    this.#notifications = notifications;
  }

  readonly publish = (queue: string, id: string, update: JobUpdate, ttlMs: number) =>
    wrapPg("publishing a job update", async () => {
      const text = JSON.stringify(update);
      const note: UpdateNote =
        text.length <= MAX_INLINE ? { q: queue, i: id, u: update } : { q: queue, i: id };
      await this.#pool().query(
        `WITH kept AS (
           INSERT INTO ${this.#s}.updates (queue, id, update, expires_at)
             VALUES ($1, $2, $3, ${this.#s}.now_ms() + $4)
             ON CONFLICT (queue, id) DO UPDATE SET update = EXCLUDED.update,
               expires_at = EXCLUDED.expires_at)
         SELECT pg_notify('${updateChannel(this.#s)}', $5)`,
        [queue, id, text, Math.round(ttlMs), JSON.stringify(note)],
      );
    });

  readonly read = (queue: string, id: string): Promise<JobUpdate | undefined> =>
    wrapPg("reading a job update", async () => {
      const { rows } = await this.#pool().query<{ update: JobUpdate }>(
        `SELECT update FROM ${this.#s}.updates
           WHERE queue = $1 AND id = $2 AND expires_at > ${this.#s}.now_ms()`,
        [queue, id],
      );
      return rows[0]?.update;
    });

  readonly watch = async (
    queue: string,
    id: string,
    listener: (update: JobUpdate) => void,
    signal: AbortSignal,
  ): Promise<void> => {
    if (signal.aborted) return;
    const stop = this.#notifications.onUpdate(queue, id, (note) => {
      if (note.u !== undefined) return listener(note.u);
      this.read(queue, id).then(
        (u) => u !== undefined && listener(u),
        () => {},
      );
    });
    signal.addEventListener("abort", stop, { once: true });
  };

  /** Deletes expired updates. */
  async sweep(): Promise<void> {
    await this.#pool().query(
      `DELETE FROM ${this.#s}.updates WHERE expires_at <= ${this.#s}.now_ms()`,
    );
  }
}

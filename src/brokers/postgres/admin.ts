/**
 * The Postgres broker's admin operations (see `BrokerAdmin`): listings page by keyset on the
 * same orders receivers use (ready by priority then enqueue order, delayed by due time, running
 * by lease end, dead oldest first), so a page never scans what came before it. On a queue with
 * limits, the ready listing puts the jobs a limit holds (with `heldBy`) after the others.
 */
import type pg from "pg";
import type {
  BrokerAdmin,
  CancelMode,
  CancelOutcome,
  JobView,
  MessageState,
  Page,
  PageOptions,
  QueueInfo,
} from "../admin.js";
import type { FailureInfo, Message, QueueCounts } from "../records.js";
import { readyChannel } from "./channels.js";
import { heldByOf, type HeldRow } from "./limits.js";
import { wrapPg } from "./pg-errors.js";

/** Per state: the keyset (two bigints) a page is ordered and continued by. */
const ORDER: Record<MessageState, readonly [string, string]> = {
  ready: ["priority", "seq"],
  delayed: ["run_at", "seq"],
  running: ["lease_until", "seq"],
  dead: ["0", "seq"],
};

/** Added to the priority of a ready job a limit holds, in its listing's keyset. */
const HELD = 65_536;

interface ViewRow extends Partial<HeldRow> {
  message: Message;
  state: MessageState;
  error: FailureInfo | null;
  failed_at: string | null;
  lease_until: string | null;
  cancel: string | null;
  k1: string;
  k2: string;
}

export class PostgresAdmin implements BrokerAdmin {
  readonly #pool: () => pg.Pool;
  readonly #s: string;
  readonly #counts: (queue: string) => Promise<QueueCounts>;

  constructor(pool: () => pg.Pool, s: string, counts: (queue: string) => Promise<QueueCounts>) {
    this.#pool = pool;
    this.#s = s;
    this.#counts = counts;
  }

  async #sql<R extends pg.QueryResultRow>(doing: string, text: string, values: unknown[]) {
    return wrapPg(doing, async () => (await this.#pool().query<R>(text, values)).rows);
  }

  async queues(): Promise<QueueInfo[]> {
    const rows = await this.#sql<{ name: string; paused: boolean }>(
      "listing queues",
      `SELECT name, paused FROM ${this.#s}.queues ORDER BY name COLLATE "C"`,
      [],
    );
    const out: QueueInfo[] = [];
    for (const r of rows)
      out.push({ name: r.name, paused: r.paused, counts: await this.#counts(r.name) });
    return out;
  }

  async jobs(
    queue: string,
    state: MessageState,
    options: PageOptions = {},
  ): Promise<Page<JobView>> {
    const limit = Math.max(1, options.limit ?? 50);
    const [a, b] = ORDER[state];
    const after = options.cursor?.split(":").map(Number);
    const values: unknown[] = [queue, limit + 1];
    let where = state === "dead" ? "" : `AND t.state = '${state}'`;
    let from = "";
    if (after && after.length === 2 && after.every(Number.isFinite)) {
      values.push(after[0], after[1]);
      where += ` AND (${a}, seq) > ($3, $4)`;
      from = "WHERE (k1, k2) > ($3, $4)";
    }
    const rows =
      state === "ready" && (await this.#limited(queue))
        ? await this.#sql<ViewRow>(
            "listing jobs",
            `SELECT * FROM (${this.#selectHeld()} WHERE t.queue = $1 AND t.state = 'ready') x
               ${from} ORDER BY k1, k2 LIMIT $2`,
            values,
          )
        : await this.#sql<ViewRow>(
            "listing jobs",
            `${this.#select(state)} WHERE t.queue = $1 ${where} ORDER BY k1, k2 LIMIT $2`,
            values,
          );
    const items = rows.slice(0, limit);
    const last = rows.length > limit ? items[items.length - 1] : undefined;
    return {
      items: items.map(view),
      ...(last ? { next: `${last.k1}:${last.k2}` } : {}),
    };
  }

  async job(queue: string, id: string): Promise<JobView | undefined> {
    const [live] = await this.#sql<ViewRow>(
      "looking up a job",
      (await this.#limited(queue))
        ? `${this.#selectHeld()} WHERE t.queue = $1 AND t.id = $2`
        : `${this.#select("ready")} WHERE t.queue = $1 AND t.id = $2`,
      [queue, id],
    );
    if (live) return view(live);
    const [dead] = await this.#sql<ViewRow>(
      "looking up a job",
      `${this.#select("dead")} WHERE t.queue = $1 AND t.id = $2 ORDER BY seq DESC LIMIT 1`,
      [queue, id],
    );
    return dead ? view(dead) : undefined;
  }

  #select(state: MessageState): string {
    const s = this.#s;
    if (state === "dead")
      return `SELECT t.message, 'dead' AS state, t.error, t.failed_at, NULL AS lease_until,
                NULL AS cancel, 0 AS k1, t.seq AS k2 FROM ${s}.dead t`;
    const [a] = ORDER[state];
    return `SELECT ${s}.message_json(t) AS message, t.state, t.last_error AS error,
              NULL AS failed_at, t.lease_until, t.cancel, coalesce(t.${a}, 0) AS k1, t.seq AS k2
            FROM ${s}.messages t`;
  }

  async #limited(queue: string): Promise<boolean> {
    const rows = await this.#sql(
      "looking up limits",
      `SELECT 1 FROM ${this.#s}.limits WHERE queue = $1 LIMIT 1`,
      [queue],
    );
    return rows.length > 0;
  }

  /**
   * As `#select(...)` for live jobs of the queue `$1`, with which limit holds each ready one
   * (`limit_plan`); the held ones' keyset comes after every other's.
   */
  #selectHeld(): string {
    const s = this.#s;
    return `SELECT ${s}.message_json(t) AS message, t.state, t.last_error AS error,
              NULL AS failed_at, t.lease_until, t.cancel, p.held, p.held_key, p.held_max,
              coalesce(t.priority, 0) + CASE WHEN p.held IS NULL THEN 0 ELSE ${HELD} END AS k1,
              t.seq AS k2
            FROM ${s}.messages t
            LEFT JOIN ${s}.limit_plan(ARRAY[$1::text], ${s}.now_ms()) p
              ON t.state = 'ready' AND p.queue = t.queue AND p.id = t.id`;
  }

  async cancel(queue: string, id: string, mode: CancelMode = "dead"): Promise<CancelOutcome> {
    const [row] = await this.#sql<{ outcome: CancelOutcome }>(
      "cancelling a job",
      `WITH removed AS (
         DELETE FROM ${this.#s}.messages WHERE queue = $1 AND id = $2 AND state <> 'running'
         RETURNING 'removed' AS outcome
       ), marked AS (
         UPDATE ${this.#s}.messages SET cancel = $3
           WHERE queue = $1 AND id = $2 AND state = 'running' RETURNING 'cancelling' AS outcome
       )
       SELECT outcome FROM removed UNION ALL SELECT outcome FROM marked`,
      [queue, id, mode],
    );
    return row?.outcome ?? "not-found";
  }

  async replay(queue: string, ids?: readonly string[]): Promise<number> {
    const s = this.#s;
    const rows = await this.#sql<{ n: string }>(
      "replaying dead letters",
      `WITH q AS (
         SELECT name FROM ${s}.queues WHERE name = $1 FOR KEY SHARE
       ), d AS (
         SELECT DISTINCT ON (id) seq, queue, id, message FROM ${s}.dead
           WHERE queue = (SELECT name FROM q) AND ($2::text[] IS NULL OR id = ANY ($2))
           ORDER BY id, seq
       ), ins AS (
         INSERT INTO ${s}.messages (queue, id, state, topic, payload, priority, retries,
             timeout_ms, execute_at, schedule, result_ttl_ms, headers, expires_at, enqueued_at,
             lkeys)
           SELECT d.queue, d.id, 'ready', m->>'topic', m->>'payload', (m->>'priority')::smallint,
             (m->>'retries')::integer, (m->>'timeoutMs')::bigint, (m->>'executeAt')::bigint,
             m->'schedule', (m->>'resultTtlMs')::bigint, m->'headers', (m->>'expiresAt')::bigint,
             (m->>'enqueuedAt')::bigint, ${s}.limit_keys(d.queue, m->>'topic', m->>'payload')
           FROM d, LATERAL (SELECT d.message AS m) x ORDER BY d.seq
           ON CONFLICT (queue, id) DO NOTHING RETURNING queue, id
       ), del AS (
         DELETE FROM ${s}.dead t USING ins, d
           WHERE d.queue = ins.queue AND d.id = ins.id AND t.seq = d.seq RETURNING 1
       )
       SELECT count(*) AS n, pg_notify('${readyChannel(s)}', $1) FROM del`,
      [queue, ids ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async deleteDead(queue: string, ids?: readonly string[]): Promise<number> {
    const rows = await this.#sql(
      "deleting dead letters",
      `DELETE FROM ${this.#s}.dead WHERE queue = $1 AND ($2::text[] IS NULL OR id = ANY ($2))
         RETURNING 1`,
      [queue, ids ?? null],
    );
    return rows.length;
  }

  async pause(queue: string): Promise<void> {
    await this.#sql(
      "pausing a queue",
      `UPDATE ${this.#s}.queues SET paused = true WHERE name = $1`,
      [queue],
    );
  }

  async resume(queue: string): Promise<void> {
    await this.#sql(
      "resuming a queue",
      `WITH r AS (UPDATE ${this.#s}.queues SET paused = false WHERE name = $1)
       SELECT pg_notify('${readyChannel(this.#s)}', $1)`,
      [queue],
    );
  }
}

function view(r: ViewRow): JobView {
  const out: { -readonly [K in keyof JobView]: JobView[K] } = {
    message: r.message,
    state: r.state,
  };
  if (r.error !== null) out.error = r.error;
  if (r.failed_at !== null) out.failedAt = Number(r.failed_at);
  if (r.state === "running" && r.lease_until !== null) out.leaseUntil = Number(r.lease_until);
  if (r.state === "running" && r.cancel !== null) out.cancelling = true;
  const held = r.held === undefined ? undefined : heldByOf(r as HeldRow);
  if (held) out.heldBy = held;
  return out;
}

/**
 * Migration 6, "limits": concurrency and rate limits per topic (and per key) across every
 * consumer of a queue (see the broker contract's `declareLimits`).
 *
 * Tables
 * - limits: (queue, topic) -> slots and their key path, starts per window, the window (with its
 *   grace, see `rateWindowMs`) and its key path; `declared` is the declaration as given.
 * - limit_starts: one row per lease a rate group took (queue, topic, key value, time): the rate
 *   window, pruned by the takes of the queue.
 * - limit_turns: per group (kind 'c' concurrency or 'r' rate, key value), the `seq` mark its next
 *   message is placed behind: set when the group has a lease taken, so that groups with work take
 *   turns with each other and with what was ready then (as a fresh place in Redis's `ready`).
 *
 * Nothing is stored per message: a message's key values are read from its payload
 * (`limit_key`, as `keyOf` does), and a concurrency group's slots are counted from the running
 * rows of its topic and key, so a lease frees its slot however it ends (settled, recovered by
 * `recover`, removed). `limit_plan` says, for every ready row of a limited topic, whether it may
 * be leased now (and its place) or which limit holds it; `take` leases from it for a queue with
 * limits (under an advisory lock of the queue, so two takers never share a free slot) and takes
 * its old path, unchanged, for queues without any. `settle` wakes receivers when a lease of a
 * topic with a concurrency limit ends; `next_wake` includes the time a full rate window opens.
 */
import { readyChannel } from "./channels.js";
import { limitedSettle } from "./limits-settle-sql.js";

/** The advisory lock a queue's limited takes and declarations hold (text of `hashtextextended`). */
export const lockOf = (s: string, queue: string): string =>
  `hashtextextended('repid:${s}:limits:' || ${queue}, 0)`;

const tables = (s: string): string => `
CREATE TABLE ${s}.limits (
  queue text NOT NULL,
  topic text NOT NULL,
  c_limit integer,
  c_key text[],
  r_limit integer,
  r_window bigint,
  r_key text[],
  declared jsonb NOT NULL,
  PRIMARY KEY (queue, topic)
);
CREATE TABLE ${s}.limit_starts (
  queue text NOT NULL,
  topic text NOT NULL,
  key text NOT NULL,
  at bigint NOT NULL
);
CREATE INDEX limit_starts_group ON ${s}.limit_starts (queue, topic, key, at);
CREATE TABLE ${s}.limit_turns (
  queue text NOT NULL,
  topic text NOT NULL,
  kind "char" NOT NULL,
  key text NOT NULL,
  mark bigint NOT NULL,
  PRIMARY KEY (queue, topic, kind, key)
);

-- The key value of a payload at a path: the string or number there (a number as its shortest
-- decimal text), '' when none (no path, no payload, not JSON, a missing field, another type).
-- A path's segments never start with a digit (see checkKey), so #> never indexes an array.
CREATE FUNCTION ${s}.limit_key(p_payload text, p_path text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  v jsonb;
BEGIN
  IF p_path IS NULL OR p_payload IS NULL THEN RETURN ''; END IF;
  BEGIN
    v := p_payload::jsonb #> p_path;
  EXCEPTION WHEN others THEN
    RETURN '';
  END;
  RETURN CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{}'
    WHEN 'number' THEN trim_scale(v::text::numeric)::text ELSE '' END;
END
$$;
`;

/**
 * Every ready row of a limited topic of \`p_queues\`: \`held\` NULL when it may be leased now (then
 * \`eff\` orders it within its priority: its seq, or its groups' turn marks when later), else which
 * limit holds it ('concurrency' or 'rateLimit'), for which key value and with what number.
 * A group's free slots (or starts left in its window) go to its first rows by priority and seq;
 * rows a full group holds do not take a place in their other group. The key values are read
 * once per row (the CTEs that read them are materialized: inlined, each use would read again).
 */
const plan = (s: string): string => `
CREATE FUNCTION ${s}.limit_plan(p_queues text[], p_now bigint)
RETURNS TABLE (queue text, id text, topic text, priority smallint, seq bigint, eff bigint,
  ck text, rk text, held text, held_key text, held_max integer)
LANGUAGE sql STABLE AS $$
  WITH lim AS (
    SELECT * FROM ${s}.limits l WHERE l.queue = ANY (p_queues)
  ), waiting AS MATERIALIZED (
    SELECT m.queue, m.id, m.topic, m.priority, m.seq,
      CASE WHEN l.c_limit IS NOT NULL THEN ${s}.limit_key(m.payload, l.c_key) END AS ck,
      CASE WHEN l.r_limit IS NOT NULL THEN ${s}.limit_key(m.payload, l.r_key) END AS rk,
      l.c_limit, l.r_limit
    FROM ${s}.messages m JOIN lim l ON l.queue = m.queue AND l.topic = m.topic
    WHERE m.state = 'ready'
  ), busy AS MATERIALIZED (
    SELECT m.queue, m.topic, ${s}.limit_key(m.payload, l.c_key) AS ck, count(*) AS n
    FROM ${s}.messages m JOIN lim l ON l.queue = m.queue AND l.topic = m.topic
    WHERE m.state = 'running' AND l.c_limit IS NOT NULL
    GROUP BY 1, 2, 3
  ), started AS MATERIALIZED (
    SELECT st.queue, st.topic, st.key AS rk, count(*) AS n
    FROM ${s}.limit_starts st JOIN lim l ON l.queue = st.queue AND l.topic = st.topic
    WHERE l.r_limit IS NOT NULL AND st.at > p_now - l.r_window
    GROUP BY 1, 2, 3
  ), free AS (
    SELECT w.*, w.c_limit - coalesce(b.n, 0) AS c_free, w.r_limit - coalesce(r.n, 0) AS r_free,
      CASE WHEN w.c_limit - coalesce(b.n, 0) <= 0 THEN 'concurrency'
           WHEN w.r_limit - coalesce(r.n, 0) <= 0 THEN 'rateLimit' END AS full
    FROM waiting w
    LEFT JOIN busy b ON b.queue = w.queue AND b.topic = w.topic AND b.ck = w.ck
    LEFT JOIN started r ON r.queue = w.queue AND r.topic = w.topic AND r.rk = w.rk
  ), by_slots AS (
    SELECT f.*, f.full AS held1 FROM free f WHERE f.c_limit IS NULL
    UNION ALL
    SELECT f.*, coalesce(f.full, CASE WHEN row_number() OVER (
        PARTITION BY f.queue COLLATE "C", f.topic COLLATE "C", f.ck COLLATE "C", f.full IS NULL
        ORDER BY f.priority, f.seq) > f.c_free THEN 'concurrency' END)
    FROM free f WHERE f.c_limit IS NOT NULL
  ), by_rate AS (
    SELECT b.*, b.held1 AS held2 FROM by_slots b WHERE b.r_limit IS NULL
    UNION ALL
    SELECT b.*, coalesce(b.held1, CASE WHEN row_number() OVER (
        PARTITION BY b.queue COLLATE "C", b.topic COLLATE "C", b.rk COLLATE "C", b.held1 IS NULL
        ORDER BY b.priority, b.seq) > b.r_free THEN 'rateLimit' END)
    FROM by_slots b WHERE b.r_limit IS NOT NULL
  )
  SELECT x.queue, x.id, x.topic, x.priority, x.seq, greatest(x.seq, tc.mark, tr.mark) AS eff,
    x.ck, x.rk, x.held2,
    CASE x.held2 WHEN 'concurrency' THEN x.ck WHEN 'rateLimit' THEN x.rk END,
    CASE x.held2 WHEN 'concurrency' THEN x.c_limit WHEN 'rateLimit' THEN x.r_limit END
  FROM by_rate x
  LEFT JOIN ${s}.limit_turns tc
    ON tc.queue = x.queue AND tc.topic = x.topic AND tc.kind = 'c' AND tc.key = x.ck
  LEFT JOIN ${s}.limit_turns tr
    ON tr.queue = x.queue AND tr.topic = x.topic AND tr.kind = 'r' AND tr.key = x.rk
$$;

CREATE FUNCTION ${s}.declare_limits(p_queue text, p_topic text, p_limits jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_old ${s}.limits;
BEGIN
  PERFORM pg_advisory_xact_lock(${lockOf(s, "p_queue")});
  SELECT * INTO v_old FROM ${s}.limits WHERE queue = p_queue AND topic = p_topic;
  IF p_limits IS NULL THEN
    IF v_old.queue IS NULL THEN RETURN false; END IF;
    DELETE FROM ${s}.limits WHERE queue = p_queue AND topic = p_topic;
  ELSE
    IF v_old.declared = p_limits THEN RETURN false; END IF;
    INSERT INTO ${s}.limits (queue, topic, c_limit, c_key, r_limit, r_window, r_key, declared)
      VALUES (p_queue, p_topic, (p_limits->'c'->>'limit')::integer,
        string_to_array(p_limits->'c'->>'key', '.'), (p_limits->'r'->>'limit')::integer,
        (p_limits->'r'->>'windowMs')::bigint, string_to_array(p_limits->'r'->>'key', '.'),
        p_limits)
      ON CONFLICT (queue, topic) DO UPDATE SET c_limit = EXCLUDED.c_limit,
        c_key = EXCLUDED.c_key, r_limit = EXCLUDED.r_limit, r_window = EXCLUDED.r_window,
        r_key = EXCLUDED.r_key, declared = EXCLUDED.declared;
  END IF;
  -- Turns start over; the starts of a rate window stay while its key path does.
  DELETE FROM ${s}.limit_turns WHERE queue = p_queue AND topic = p_topic;
  IF p_limits IS NULL OR NOT (p_limits ? 'r')
      OR (v_old.r_key IS DISTINCT FROM string_to_array(p_limits->'r'->>'key', '.')) THEN
    DELETE FROM ${s}.limit_starts WHERE queue = p_queue AND topic = p_topic;
  END IF;
  PERFORM pg_notify('${readyChannel(s)}', p_queue);
  RETURN true;
END
$$;
`;

/** The columns of a leased row, as `take` returns them (see `LeasedRow` in ./codec.ts). */
const LEASED_COLUMNS = [
  "queue",
  "id",
  "topic",
  "payload",
  "priority",
  "retries",
  "timeout_ms",
  "execute_at",
  "schedule",
  "result_ttl_ms",
  "headers",
  "expires_at",
  "attempt",
  "enqueued_at",
  "stalls",
  "token",
  "lease_until",
  "seq",
] as const;

/** The leased columns of row alias `a`. */
export const LEASED = (a: string): string => LEASED_COLUMNS.map((c) => `${a}.${c}`).join(", ");

/** `take` as in migration 2 for queues without limits; the limited path for the others. */
const take = (s: string): string => `
CREATE TYPE ${s}.leased AS (queue text, id text, topic text, payload text, priority smallint,
  retries integer, timeout_ms bigint, execute_at bigint, schedule jsonb, result_ttl_ms bigint,
  headers jsonb, expires_at bigint, attempt integer, enqueued_at bigint, stalls integer,
  token bigint, lease_until bigint, seq bigint);
-- The leased rows come back as columns (the first version built a jsonb per row: a third of
-- a take of 100 went to building and parsing it); the return type changes, hence the DROP.
DROP FUNCTION ${s}.take(text[], integer, bigint, text, boolean, integer);
CREATE FUNCTION ${s}.take(p_queues text[], p_max integer, p_lease bigint,
    p_consumer text, p_recover boolean, p_max_stalls integer)
RETURNS SETOF ${s}.leased
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := ${s}.now_ms();
  v_active text[];
  v_limited text[];
  v_mark bigint;
BEGIN
  SELECT array_agg(q.name), array_agg(q.name) FILTER (WHERE EXISTS (
      SELECT 1 FROM ${s}.limits l WHERE l.queue = q.name))
    INTO v_active, v_limited
    FROM ${s}.queues q WHERE q.name = ANY (p_queues) AND NOT q.paused;
  IF v_active IS NULL THEN RETURN; END IF;
  IF p_recover THEN PERFORM ${s}.recover(v_active, p_max_stalls, v_now); END IF;
  UPDATE ${s}.messages t SET state = 'ready', run_at = NULL
    FROM (SELECT d.queue, d.id FROM ${s}.messages d
            WHERE d.state = 'delayed' AND d.queue = ANY (v_active) AND d.run_at <= v_now
            FOR UPDATE SKIP LOCKED) due
    WHERE t.queue = due.queue AND t.id = due.id;
  -- Without limits, the batch is read from the ready index in its own order, queue by queue, so
  -- a take stops after p_max rows whatever the backlog (\`queue = ANY (...)\` gives no order: every
  -- ready row would be read and sorted). Several queues: the first p_max of each, then across.
  IF v_limited IS NULL AND cardinality(v_active) = 1 THEN
    RETURN QUERY WITH picked AS (
      SELECT r.queue, r.id FROM ${s}.messages r
        WHERE r.state = 'ready' AND r.queue = v_active[1]
        ORDER BY r.priority, r.seq LIMIT p_max FOR UPDATE SKIP LOCKED
    ), leased AS (
      UPDATE ${s}.messages t SET state = 'running', token = nextval('${s}.tokens'),
          lease_until = v_now + p_lease, holder = p_consumer
        FROM picked WHERE t.queue = picked.queue AND t.id = picked.id
        RETURNING ${LEASED("t")}
    )
    SELECT ${LEASED("l")} FROM leased l;
    RETURN;
  END IF;
  IF v_limited IS NULL THEN
    RETURN QUERY WITH firsts AS (
      SELECT f.queue, f.id, f.priority, f.seq FROM unnest(v_active) q (name), LATERAL (
        SELECT r.queue, r.id, r.priority, r.seq FROM ${s}.messages r
          WHERE r.state = 'ready' AND r.queue = q.name
          ORDER BY r.priority, r.seq LIMIT p_max FOR UPDATE SKIP LOCKED) f
    ), picked AS (
      SELECT x.queue, x.id FROM firsts x ORDER BY x.priority, x.seq LIMIT p_max
    ), leased AS (
      UPDATE ${s}.messages t SET state = 'running', token = nextval('${s}.tokens'),
          lease_until = v_now + p_lease, holder = p_consumer
        FROM picked WHERE t.queue = picked.queue AND t.id = picked.id
        RETURNING ${LEASED("t")}
    )
    SELECT ${LEASED("l")} FROM leased l;
    RETURN;
  END IF;
  -- Limited queues: one taker at a time each (in name order), so a free slot goes once.
  PERFORM pg_advisory_xact_lock(${lockOf(s, "x.q")})
    FROM (SELECT q FROM unnest(v_limited) q ORDER BY q) x;
  DELETE FROM ${s}.limit_starts st USING ${s}.limits l
    WHERE st.queue = ANY (v_limited) AND l.queue = st.queue AND l.topic = st.topic
      AND st.at <= v_now - coalesce(l.r_window, 0);
  -- Now and then, the turn marks no ready row is behind any more go (they order nothing).
  IF random() < 0.02 THEN
    DELETE FROM ${s}.limit_turns t USING (
        SELECT q, (SELECT min(r.seq) FROM ${s}.messages r
                     WHERE r.state = 'ready' AND r.queue = q) AS first
          FROM unnest(v_limited) q) w
      WHERE t.queue = w.q AND t.mark < coalesce(w.first, 9223372036854775807);
  END IF;
  v_mark := nextval(pg_get_serial_sequence('${s}.messages', 'seq'));
  RETURN QUERY WITH plan AS (
    SELECT p.queue, p.id, p.topic, p.priority, p.eff, p.ck, p.rk
      FROM ${s}.limit_plan(v_limited, v_now) p WHERE p.held IS NULL
  ), unlimited AS (
    SELECT f.queue, f.id, f.priority, f.eff FROM unnest(v_active) q (name), LATERAL (
      SELECT r.queue, r.id, r.priority, r.seq AS eff FROM ${s}.messages r
        WHERE r.state = 'ready' AND r.queue = q.name AND NOT EXISTS (
          SELECT 1 FROM ${s}.limits l WHERE l.queue = r.queue AND l.topic = r.topic)
        ORDER BY r.priority, r.seq LIMIT p_max) f
  ), chosen AS (
    SELECT c.queue, c.id FROM (
        SELECT p.queue, p.id, p.priority, p.eff FROM plan p
        UNION ALL SELECT u.queue, u.id, u.priority, u.eff FROM unlimited u) c
      ORDER BY c.priority, c.eff LIMIT p_max
  ), picked AS (
    SELECT r.queue, r.id FROM ${s}.messages r JOIN chosen c ON c.queue = r.queue AND c.id = r.id
      WHERE r.state = 'ready' FOR UPDATE OF r SKIP LOCKED
  ), leased AS (
    UPDATE ${s}.messages t SET state = 'running', token = nextval('${s}.tokens'),
        lease_until = v_now + p_lease, holder = p_consumer
      FROM picked WHERE t.queue = picked.queue AND t.id = picked.id
      RETURNING ${LEASED("t")}
  ), counted AS (
    SELECT p.* FROM plan p JOIN leased l ON l.queue = p.queue AND l.id = p.id
  ), starts AS (
    INSERT INTO ${s}.limit_starts (queue, topic, key, at)
      SELECT c.queue, c.topic, c.rk, v_now FROM counted c WHERE c.rk IS NOT NULL
  ), turns AS (
    INSERT INTO ${s}.limit_turns (queue, topic, kind, key, mark)
      SELECT DISTINCT g.queue, g.topic, g.kind, g.key, v_mark FROM (
          SELECT c.queue, c.topic, 'c'::"char" AS kind, c.ck AS key FROM counted c
            WHERE c.ck IS NOT NULL
          UNION ALL SELECT c.queue, c.topic, 'r'::"char", c.rk FROM counted c
            WHERE c.rk IS NOT NULL) g
      ON CONFLICT (queue, topic, kind, key) DO UPDATE SET mark = EXCLUDED.mark
  )
  SELECT ${LEASED("l")} FROM leased l ORDER BY l.priority, l.seq;
END
$$;

CREATE OR REPLACE FUNCTION ${s}.next_wake(p_queues text[]) RETURNS TABLE (now bigint, wake bigint)
LANGUAGE sql STABLE AS $$
  SELECT ${s}.now_ms(), LEAST(
    (SELECT min(d.run_at) FROM unnest(p_queues) q, LATERAL (
       SELECT run_at FROM ${s}.messages
         WHERE state = 'delayed' AND queue = q ORDER BY run_at LIMIT 1) d),
    (SELECT min(r.lease_until) FROM ${s}.messages r
       WHERE r.state = 'running' AND r.queue = ANY (p_queues)),
    (SELECT min(c.expires_at) FROM ${s}.consumers c WHERE c.name IN (
       SELECT r.holder FROM ${s}.messages r WHERE r.state = 'running' AND r.queue = ANY (p_queues))),
    -- A full rate window opens when its oldest start leaves it.
    (SELECT min(g.first + l.r_window) FROM (
       SELECT st.queue, st.topic, st.key, min(st.at) AS first, count(*) AS n
         FROM ${s}.limit_starts st JOIN ${s}.limits l ON l.queue = st.queue AND l.topic = st.topic
         WHERE st.queue = ANY (p_queues) AND st.at > ${s}.now_ms() - l.r_window
         GROUP BY 1, 2, 3) g
       JOIN ${s}.limits l ON l.queue = g.queue AND l.topic = g.topic
       WHERE g.n >= l.r_limit))
$$;
`;

/** Migration 6's statements. */
export const limitsMigration = (s: string): string =>
  tables(s) + plan(s) + take(s) + limitedSettle(s);

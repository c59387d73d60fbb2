/**
 * Migration 9, "limit keys", the reading side: `limit_plan` and `limit_free` on the stored key
 * values (`messages.lkeys`, stamped by ./limit-keys-sql.ts), `limit_head`, `take` with its limited
 * rows from them, `limit_held` and `counts` group by group. See ./limit-keys-sql.ts for the design.
 */
import { LEASED, lockOf } from "./limits-sql.js";

/** Slots in use per concurrency group and starts per rate group of the limits in `lim`. */
const usage = (s: string): string => `
  busy AS MATERIALIZED (
    SELECT m.queue, m.topic, m.lkeys[1] AS ck, count(*) AS n
    FROM ${s}.messages m JOIN lim l ON l.queue = m.queue AND l.topic = m.topic
    WHERE m.state = 'running' AND l.c_limit IS NOT NULL
    GROUP BY 1, 2, 3
  ), started AS MATERIALIZED (
    SELECT st.queue, st.topic, st.key AS rk, count(*) AS n
    FROM ${s}.limit_starts st JOIN lim l ON l.queue = st.queue AND l.topic = st.topic
    WHERE l.r_limit IS NOT NULL AND st.at > p_now - l.r_window
    GROUP BY 1, 2, 3
  )`;

/** `limit_plan` as in migration 6, on the stored keys; `limit_free`, its free rows alone. */
const plans = (s: string): string => `
CREATE OR REPLACE FUNCTION ${s}.limit_plan(p_queues text[], p_now bigint)
RETURNS TABLE (queue text, id text, topic text, priority smallint, seq bigint, eff bigint,
  ck text, rk text, held text, held_key text, held_max integer)
LANGUAGE sql STABLE AS $$
  WITH lim AS (
    SELECT * FROM ${s}.limits l WHERE l.queue = ANY (p_queues)
  ), waiting AS MATERIALIZED (
    SELECT m.queue, m.id, m.topic, m.priority, m.seq,
      CASE WHEN l.c_limit IS NOT NULL THEN m.lkeys[1] END AS ck,
      CASE WHEN l.r_limit IS NOT NULL THEN m.lkeys[2] END AS rk,
      l.c_limit, l.r_limit
    FROM ${s}.messages m JOIN lim l ON l.queue = m.queue AND l.topic = m.topic
    WHERE m.state = 'ready'
  ), ${usage(s)}, free AS (
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

-- The ready rows of limited topics of p_queues that limit_plan leaves free (held NULL), read
-- group by group from messages_limited. p_max (NULL: no cap) caps what a group with one kind
-- of limit gives: its first rows by priority and seq are its first by priority and eff.
CREATE FUNCTION ${s}.limit_free(p_queues text[], p_now bigint, p_max integer)
RETURNS TABLE (queue text, id text, topic text, priority smallint, seq bigint, eff bigint,
  ck text, rk text)
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE lim AS MATERIALIZED (
    SELECT * FROM ${s}.limits l WHERE l.queue = ANY (p_queues)
  ), grp AS (
    SELECT l.queue, l.topic, (SELECT m.lkeys FROM ${s}.messages m
        WHERE m.state = 'ready' AND m.lkeys IS NOT NULL AND m.queue = l.queue
          AND m.topic = l.topic ORDER BY m.lkeys LIMIT 1) AS k
      FROM lim l
    UNION ALL
    SELECT g.queue, g.topic, (SELECT m.lkeys FROM ${s}.messages m
        WHERE m.state = 'ready' AND m.lkeys IS NOT NULL AND m.queue = g.queue
          AND m.topic = g.topic AND m.lkeys > g.k ORDER BY m.lkeys LIMIT 1)
      FROM grp g WHERE g.k IS NOT NULL
  ), ${usage(s)}, room AS (
    SELECT g.queue, g.topic, g.k, l.c_limit, l.r_limit,
      l.c_limit - coalesce(b.n, 0) AS c_free, l.r_limit - coalesce(r.n, 0) AS r_free
    FROM grp g JOIN lim l ON l.queue = g.queue AND l.topic = g.topic
    LEFT JOIN busy b ON b.queue = g.queue AND b.topic = g.topic AND b.ck = g.k[1]
    LEFT JOIN started r ON r.queue = g.queue AND r.topic = g.topic AND r.rk = g.k[2]
    WHERE g.k IS NOT NULL
  ), cand AS (
    SELECT o.queue, x.id, o.topic, x.priority, x.seq, o.k[1] AS ck, o.k[2] AS rk,
      o.c_limit, o.r_limit, o.c_free, o.r_free
    FROM room o, LATERAL (
      SELECT m.id, m.priority, m.seq FROM ${s}.messages m
        WHERE m.state = 'ready' AND m.lkeys IS NOT NULL AND m.queue = o.queue
          AND m.topic = o.topic AND m.lkeys = o.k
        ORDER BY m.priority, m.seq
        LIMIT greatest(0, CASE WHEN o.c_limit IS NULL THEN least(o.r_free, p_max)
          WHEN o.r_limit IS NULL THEN least(o.c_free, p_max) ELSE o.c_free END)) x
    WHERE coalesce(o.c_free, 1) > 0 AND coalesce(o.r_free, 1) > 0
  ), by_slots AS (
    SELECT c.*, CASE WHEN c.c_limit IS NOT NULL AND row_number() OVER (
        PARTITION BY c.queue COLLATE "C", c.topic COLLATE "C", c.ck COLLATE "C"
        ORDER BY c.priority, c.seq) > c.c_free THEN 'concurrency' END AS held1
    FROM cand c
  ), by_rate AS (
    SELECT b.*, b.held1 AS held2 FROM by_slots b WHERE b.r_limit IS NULL
    UNION ALL
    SELECT b.*, coalesce(b.held1, CASE WHEN row_number() OVER (
        PARTITION BY b.queue COLLATE "C", b.topic COLLATE "C", b.rk COLLATE "C", b.held1 IS NULL
        ORDER BY b.priority, b.seq) > b.r_free THEN 'rateLimit' END)
    FROM by_slots b WHERE b.r_limit IS NOT NULL
  )
  SELECT x.queue, x.id, x.topic, x.priority, x.seq, greatest(x.seq, tc.mark, tr.mark) AS eff,
    x.ck, x.rk
  FROM by_rate x
  LEFT JOIN ${s}.limit_turns tc
    ON tc.queue = x.queue AND tc.topic = x.topic AND tc.kind = 'c' AND tc.key = x.ck
  LEFT JOIN ${s}.limit_turns tr
    ON tr.queue = x.queue AND tr.topic = x.topic AND tr.kind = 'r' AND tr.key = x.rk
  WHERE x.held2 IS NULL
$$;

-- The first p_rows ready rows of the limited topics of p_queue by priority and seq, each with
-- limit_plan's answer (free: held NULL) and place. Exact: every row before one of them is one of
-- them, so the ranks within their groups are their ranks among them.
CREATE FUNCTION ${s}.limit_head(p_queue text, p_now bigint, p_rows integer)
RETURNS TABLE (queue text, id text, topic text, priority smallint, seq bigint, eff bigint,
  ck text, rk text, free boolean)
LANGUAGE sql STABLE AS $$
  WITH lim AS MATERIALIZED (
    SELECT * FROM ${s}.limits l WHERE l.queue = p_queue
  ), head AS MATERIALIZED (
    SELECT m.queue, m.id, m.topic, m.priority, m.seq, m.lkeys FROM ${s}.messages m
      WHERE m.state = 'ready' AND m.lkeys IS NOT NULL AND m.lkeys <> '{}' AND m.queue = p_queue
      ORDER BY m.priority, m.seq LIMIT p_rows
  ), waiting AS (
    SELECT h.queue, h.id, h.topic, h.priority, h.seq,
      CASE WHEN l.c_limit IS NOT NULL THEN h.lkeys[1] END AS ck,
      CASE WHEN l.r_limit IS NOT NULL THEN h.lkeys[2] END AS rk,
      l.c_limit, l.r_limit
    FROM head h JOIN lim l ON l.queue = h.queue AND l.topic = h.topic
  ), ${usage(s)}, free AS (
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
    x.ck, x.rk, x.held2 IS NULL
  FROM by_rate x
  LEFT JOIN ${s}.limit_turns tc
    ON tc.queue = x.queue AND tc.topic = x.topic AND tc.kind = 'c' AND tc.key = x.ck
  LEFT JOIN ${s}.limit_turns tr
    ON tr.queue = x.queue AND tr.topic = x.topic AND tr.kind = 'r' AND tr.key = x.rk
$$;
`;

/**
 * `take` as in migration 6, its limited rows from `limit_free`; since migration 10 its clock read
 * after the limits lock (applied again by that migration).
 */
export const keyedTake = (s: string): string => `
CREATE OR REPLACE FUNCTION ${s}.take(p_queues text[], p_max integer, p_lease bigint,
    p_consumer text, p_recover boolean, p_max_stalls integer)
RETURNS SETOF ${s}.leased
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := ${s}.now_ms();
  v_active text[];
  v_limited text[];
  v_mark bigint;
  v_rows integer := greatest(64, 4 * p_max);
  v_head boolean := false;
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
  PERFORM pg_advisory_xact_lock(${lockOf(s, "x.q")})
    FROM (SELECT q FROM unnest(v_limited) q ORDER BY q) x;
  -- The time of the take is after the lock: a take that waited behind another for it would
  -- otherwise stamp its rate-limit starts (and read the windows) as of before the wait.
  v_now := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  DELETE FROM ${s}.limit_starts st USING ${s}.limits l
    WHERE st.queue = ANY (v_limited) AND l.queue = st.queue AND l.topic = st.topic
      AND st.at <= v_now - coalesce(l.r_window, 0);
  IF random() < 0.02 THEN
    DELETE FROM ${s}.limit_turns t USING (
        SELECT q, (SELECT min(r.seq) FROM ${s}.messages r
                     WHERE r.state = 'ready' AND r.queue = q) AS first
          FROM unnest(v_limited) q) w
      WHERE t.queue = w.q AND t.mark < coalesce(w.first, 9223372036854775807);
  END IF;
  v_mark := nextval(pg_get_serial_sequence('${s}.messages', 'seq'));
  -- One limited queue: its first v_rows limited rows usually answer (when they are all it has,
  -- or when p_max of their free ones come before the last of them: no row after it can come
  -- before those, its eff being at least its seq); else the groups with room, one by one.
  IF cardinality(v_limited) = 1 THEN
    WITH h AS MATERIALIZED (
      SELECT * FROM ${s}.limit_head(v_limited[1], v_now, v_rows)
    ), b AS (
      SELECT h.priority, h.seq FROM h ORDER BY h.priority DESC, h.seq DESC LIMIT 1
    )
    SELECT (SELECT count(*) FROM h) < v_rows OR (SELECT count(*) FROM h, b
        WHERE h.free AND (h.priority, h.eff) < (b.priority, b.seq)) >= p_max
      INTO v_head;
  END IF;
  RETURN QUERY WITH RECURSIVE plan AS MATERIALIZED (
    SELECT p.queue, p.id, p.topic, p.priority, p.eff, p.ck, p.rk
      FROM ${s}.limit_head(v_limited[1], v_now, v_rows) p WHERE v_head AND p.free
    UNION ALL
    SELECT p.queue, p.id, p.topic, p.priority, p.eff, p.ck, p.rk
      FROM ${s}.limit_free(v_limited, v_now, p_max) p WHERE NOT v_head
  ), topics AS (
    -- The topics with ready rows of each limited queue (a loose scan of messages_limited).
    SELECT q AS queue, (SELECT m.topic FROM ${s}.messages m
        WHERE m.state = 'ready' AND m.lkeys IS NOT NULL AND m.queue = q
        ORDER BY m.topic LIMIT 1) AS topic
      FROM unnest(v_limited) q
    UNION ALL
    SELECT t.queue, (SELECT m.topic FROM ${s}.messages m
        WHERE m.state = 'ready' AND m.lkeys IS NOT NULL AND m.queue = t.queue
          AND m.topic > t.topic ORDER BY m.topic LIMIT 1)
      FROM topics t WHERE t.topic IS NOT NULL
  ), unlimited AS (
    -- A limited queue's topics without limits (their rows' lkeys are '{}'), topic by topic.
    SELECT f.queue, f.id, f.priority, f.eff FROM topics t, LATERAL (
      SELECT r.queue, r.id, r.priority, r.seq AS eff FROM ${s}.messages r
        WHERE r.state = 'ready' AND r.lkeys IS NOT NULL AND r.queue = t.queue
          AND r.topic = t.topic AND r.lkeys = '{}'::text[]
        ORDER BY r.priority, r.seq LIMIT p_max) f
      WHERE t.topic IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM ${s}.limits l WHERE l.queue = t.queue AND l.topic = t.topic)
    UNION ALL
    -- The queues without limits, as before.
    SELECT f.queue, f.id, f.priority, f.eff FROM unnest(v_active) q (name), LATERAL (
      SELECT r.queue, r.id, r.priority, r.seq AS eff FROM ${s}.messages r
        WHERE r.state = 'ready' AND r.queue = q.name
        ORDER BY r.priority, r.seq LIMIT p_max) f
      WHERE NOT (q.name = ANY (v_limited))
  ), chosen AS (
    SELECT c.queue, c.id FROM (
        SELECT p.queue, p.id, p.priority, p.eff FROM plan p
        UNION ALL SELECT u.queue, u.id, u.priority, u.eff FROM unlimited u) c
      ORDER BY c.priority, c.eff LIMIT p_max
  ), picked AS (
    -- Each chosen row by its primary key: a join, or the state in the locking scan, can make the
    -- planner read the queue's ready index instead (every ready row) when its statistics are
    -- behind a backlog that just arrived. A row taken meanwhile is locked, then left out.
    SELECT r.queue, r.id FROM chosen c, LATERAL (
      SELECT r.queue, r.id, r.state FROM ${s}.messages r
        WHERE r.queue = c.queue AND r.id = c.id
        LIMIT 1 FOR UPDATE SKIP LOCKED) r -- (LIMIT: the state test is not pushed down into it)
      WHERE r.state = 'ready'
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
`;

/**
 * `counts` as in migration 6, its held rows per topic from `limit_held`: with one kind of limit,
 * a group holds all its ready rows but its free slots' worth (counted group by group from
 * messages_limited, as cheap per row as the counts by state); with both kinds, `limit_plan`.
 */
const counts = (s: string): string => `
CREATE FUNCTION ${s}.limit_held(p_queue text, p_now bigint) RETURNS TABLE (topic text, n bigint)
LANGUAGE sql STABLE AS $$
  WITH lim AS MATERIALIZED (
    SELECT * FROM ${s}.limits l WHERE l.queue = p_queue
  ), ${usage(s)}, grp AS (
    SELECT m.topic, m.lkeys, count(*) AS n FROM ${s}.messages m
      WHERE m.state = 'ready' AND m.lkeys IS NOT NULL AND m.queue = p_queue
        AND m.topic IN (SELECT l.topic FROM lim l WHERE l.c_limit IS NULL OR l.r_limit IS NULL)
      GROUP BY m.topic, m.lkeys
  )
  SELECT g.topic, sum(g.n - least(g.n, greatest(0, CASE WHEN l.c_limit IS NOT NULL
      THEN l.c_limit - coalesce(b.n, 0) ELSE l.r_limit - coalesce(r.n, 0) END)))::bigint
    FROM grp g JOIN lim l ON l.topic = g.topic
    LEFT JOIN busy b ON b.queue = p_queue AND b.topic = g.topic AND b.ck = g.lkeys[1]
    LEFT JOIN started r ON r.queue = p_queue AND r.topic = g.topic AND r.rk = g.lkeys[2]
    GROUP BY g.topic
  UNION ALL
  SELECT p.topic, count(*) FROM ${s}.limit_plan(ARRAY[p_queue], p_now) p
    WHERE p.held IS NOT NULL AND EXISTS (SELECT 1 FROM lim l
      WHERE l.topic = p.topic AND l.c_limit IS NOT NULL AND l.r_limit IS NOT NULL)
      AND EXISTS (SELECT 1 FROM lim l WHERE l.c_limit IS NOT NULL AND l.r_limit IS NOT NULL)
    GROUP BY p.topic
$$;

CREATE OR REPLACE FUNCTION ${s}.counts(p_queue text, p_max_stalls integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_counts jsonb;
  v_by jsonb;
  v_held bigint;
BEGIN
  PERFORM ${s}.recover(ARRAY[p_queue], p_max_stalls, v_now);
  SELECT jsonb_build_object(
    'ready', count(*) FILTER (WHERE state = 'ready'),
    'delayed', count(*) FILTER (WHERE state = 'delayed'),
    'running', count(*) FILTER (WHERE state = 'running'),
    'dead', (SELECT count(*) FROM ${s}.dead WHERE queue = p_queue))
    INTO v_counts FROM ${s}.messages WHERE queue = p_queue;
  IF NOT EXISTS (SELECT 1 FROM ${s}.limits WHERE queue = p_queue) THEN RETURN v_counts; END IF;
  SELECT jsonb_object_agg(h.topic, h.n), sum(h.n) INTO v_by, v_held
    FROM ${s}.limit_held(p_queue, v_now) h WHERE h.n > 0;
  IF coalesce(v_held, 0) = 0 THEN RETURN v_counts; END IF;
  RETURN v_counts || jsonb_build_object('ready', (v_counts->>'ready')::bigint - v_held,
    'limited', v_held, 'limitedBy', v_by);
END
$$;
`;

/** The functions of migration 9 that read the stored keys. */
export const keyedTakeFunctions = (s: string): string => plans(s) + keyedTake(s) + counts(s);

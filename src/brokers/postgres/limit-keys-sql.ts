/**
 * Migration 9, "limit keys": a take on a queue with limits costs what the groups with work cost,
 * not what the waiting jobs do (migration 6 read the key values of every waiting limited row
 * from its payload and ranked them all, on every take).
 *
 * - messages.lkeys: a limited message's key values, `{concurrency key, rate key}` (an element
 *   NULL when its topic has no such limit); `{}` for a topic without limits on a queue with
 *   some (so that a take reads those from an index too, topic by topic, instead of wading
 *   through the limited ones in the ready index); NULL on a queue without limits. Stamped when
 *   the row is written (`enqueue` through `insert_message_keyed`, `insert_message` for a
 *   settlement's follow-up, `enqueue_plain`, a replay, and a trigger when an update changes its
 *   payload or topic) from the topic's key paths, and re-stamped for the rows of the queue when
 *   a topic's limits are (re)declared or removed (`declare_limits`). Writers of a queue hold a
 *   shared advisory lock of the queue's keys and `declare_limits` the exclusive one, so that no
 *   row is stamped under the paths a declaration is replacing.
 * - messages_limited: the ready rows of limited queues by (queue, topic, lkeys, priority, seq):
 *   the groups with work are read from it by a loose index scan (one probe per distinct lkeys),
 *   the first rows of each group with room in order, and a limited queue's topics without
 *   limits (lkeys '{}') topic by topic. messages_limited_order: the ready limited rows by
 *   (queue, priority, seq).
 *
 * A take on one limited queue first ranks the queue's first `greatest(64, 4 * p_max)` limited
 * rows (`limit_head`): exact, as every row before one of them is one of them, and enough when
 * they are all there is or p_max of their free ones come before the last of them (a row after it
 * has a seq, so an eff, past it). Otherwise (a full group in front; several limited queues)
 * `limit_free` gives the free rows with `limit_plan`'s answer exactly: a group (a distinct lkeys
 * of a topic) that is full holds all its rows, and of one that has room only its first `c_free`
 * rows (or `r_free` with a rate limit alone) can be free, because a row's rank in its concurrency
 * group is at least its rank in its lkeys group, and every row concurrency does not hold is such
 * a first row (so the rate ranks among them are the same as among all); the same ranking as
 * `limit_plan`'s then runs over those candidates. `counts` counts a topic's held rows group by
 * group (`limit_held`: all but its free slots' worth with one kind of limit, `limit_plan` with
 * both), and `limit_plan` (job views) reads the stored keys instead of the payloads.
 */
import { readyChannel } from "./channels.js";
import { keyedTakeFunctions } from "./limit-keys-take-sql.js";
import { lockOf } from "./limits-sql.js";

/** The advisory lock under which rows of a queue are stamped (shared) or re-stamped. */
const keysLockOf = (s: string, queue: string): string =>
  `hashtextextended('repid:${s}:limit-keys:' || ${queue}, 0)`;

const columns = (s: string): string => `
ALTER TABLE ${s}.messages ADD COLUMN lkeys text[];
CREATE INDEX messages_limited ON ${s}.messages (queue, topic, lkeys, priority, seq)
  WHERE state = 'ready' AND lkeys IS NOT NULL;
CREATE INDEX messages_limited_order ON ${s}.messages (queue, priority, seq)
  WHERE state = 'ready' AND lkeys IS NOT NULL AND lkeys <> '{}';

-- The key values of a payload under the limits of (queue, topic); '{}' for a topic without
-- limits on a queue with some, NULL on a queue without any.
CREATE FUNCTION ${s}.limit_keys_at(p_queue text, p_topic text, p_payload text) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN l.queue IS NOT NULL THEN
      ARRAY[CASE WHEN l.c_limit IS NOT NULL THEN ${s}.limit_key(p_payload, l.c_key) END,
            CASE WHEN l.r_limit IS NOT NULL THEN ${s}.limit_key(p_payload, l.r_key) END]
    WHEN EXISTS (SELECT 1 FROM ${s}.limits x WHERE x.queue = p_queue) THEN '{}'::text[] END
  FROM (SELECT) d LEFT JOIN ${s}.limits l ON l.queue = p_queue AND l.topic = p_topic
$$;

-- The same for a row being written, under the queue's shared keys lock.
CREATE FUNCTION ${s}.limit_keys(p_queue text, p_topic text, p_payload text) RETURNS text[]
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(${keysLockOf(s, "p_queue")});
  RETURN ${s}.limit_keys_at(p_queue, p_topic, p_payload);
END
$$;

CREATE FUNCTION ${s}.messages_limit_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.lkeys := ${s}.limit_keys(NEW.queue, NEW.topic, NEW.payload);
  RETURN NEW;
END
$$;
-- A waiting message replaced in place (a periodic one redeclared, a debounced one) gets the
-- keys of its new payload; updates that leave payload and topic alone do not fire it.
CREATE TRIGGER messages_limit_keys BEFORE UPDATE OF payload, topic ON ${s}.messages
  FOR EACH ROW
  WHEN (OLD.payload IS DISTINCT FROM NEW.payload OR OLD.topic IS DISTINCT FROM NEW.topic)
  EXECUTE FUNCTION ${s}.messages_limit_keys();

UPDATE ${s}.messages m SET lkeys = ${s}.limit_keys_at(m.queue, m.topic, m.payload)
  WHERE m.queue IN (SELECT l.queue FROM ${s}.limits l);
`;

/**
 * `insert_message` (migration 2; a settlement's follow-up), `enqueue` (migration 2) and
 * `enqueue_plain` (migration 4), stamping `lkeys` and locking their queues as migration 8 does; the two enqueues take the keys lock and look
 * for limits once per batch, so that a batch for queues without limits reads no limits per row.
 */
const inserts = (s: string): string => `
CREATE FUNCTION ${s}.insert_message_keyed(m jsonb, p_now bigint, p_enqueued_at bigint,
    p_limited boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_at bigint := (m->>'executeAt')::bigint;
BEGIN
  INSERT INTO ${s}.messages (queue, id, state, run_at, topic, payload, priority, retries,
      timeout_ms, execute_at, schedule, result_ttl_ms, headers, expires_at, enqueued_at, lkeys)
    VALUES (m->>'queue', m->>'id',
      CASE WHEN v_at > p_now THEN 'delayed' ELSE 'ready' END,
      CASE WHEN v_at > p_now THEN v_at END,
      m->>'topic', m->>'payload', (m->>'priority')::smallint, (m->>'retries')::integer,
      (m->>'timeoutMs')::bigint, v_at, m->'schedule', (m->>'resultTtlMs')::bigint,
      m->'headers', (m->>'expiresAt')::bigint, p_enqueued_at,
      CASE WHEN p_limited THEN ${s}.limit_keys_at(m->>'queue', m->>'topic', m->>'payload') END)
    ON CONFLICT (queue, id) DO NOTHING;
  RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION ${s}.insert_message(m jsonb, p_now bigint, p_enqueued_at bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_at bigint := (m->>'executeAt')::bigint;
  v_locked text;
BEGIN
  -- As limit_keys, inline: a message for a queue without limits pays one lock (an assignment,
  -- evaluated as a simple expression, costs less than a PERFORM) and one probe of limits.
  v_locked := pg_advisory_xact_lock_shared(${keysLockOf(s, "(m->>'queue')")})::text;
  -- Its queue locked against deletion until this commits (see ./queue-locks-sql.ts).
  PERFORM 1 FROM ${s}.queues WHERE name = m->>'queue' FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'queue "%" is not declared', m->>'queue' USING ERRCODE = 'RQ001',
      DETAIL = m->>'queue';
  END IF;
  INSERT INTO ${s}.messages (queue, id, state, run_at, topic, payload, priority, retries,
      timeout_ms, execute_at, schedule, result_ttl_ms, headers, expires_at, enqueued_at, lkeys)
    VALUES (m->>'queue', m->>'id',
      CASE WHEN v_at > p_now THEN 'delayed' ELSE 'ready' END,
      CASE WHEN v_at > p_now THEN v_at END,
      m->>'topic', m->>'payload', (m->>'priority')::smallint, (m->>'retries')::integer,
      (m->>'timeoutMs')::bigint, v_at, m->'schedule', (m->>'resultTtlMs')::bigint,
      m->'headers', (m->>'expiresAt')::bigint, p_enqueued_at,
      CASE WHEN EXISTS (SELECT 1 FROM ${s}.limits l WHERE l.queue = m->>'queue')
        THEN ${s}.limit_keys_at(m->>'queue', m->>'topic', m->>'payload') END)
    ON CONFLICT (queue, id) DO NOTHING;
  RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION ${s}.enqueue(batch jsonb) RETURNS boolean[] LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_queues text[];
  v_missing text;
  v_limited boolean;
  m jsonb;
  v_at bigint;
  v_created boolean;
  v_out boolean[] := '{}';
  v_wake text[] := '{}';
BEGIN
  SELECT array_agg(DISTINCT e->>'queue') INTO v_queues FROM jsonb_array_elements(batch) e;
  -- Each queue of the batch once: locked against its deletion until this commits (see
  -- ./queue-locks-sql.ts), or missing.
  SELECT x.q INTO v_missing FROM unnest(v_queues) x (q)
    LEFT JOIN LATERAL (SELECT true AS found FROM ${s}.queues k WHERE k.name = x.q
                         FOR KEY SHARE) k ON true
    WHERE k.found IS NULL LIMIT 1;
  IF v_missing IS NOT NULL THEN
    RAISE EXCEPTION 'queue "%" is not declared', v_missing USING ERRCODE = 'RQ001', DETAIL = v_missing;
  END IF;
  -- The keys lock and the limits, once for the batch (see insert_message_keyed).
  PERFORM pg_advisory_xact_lock_shared(${keysLockOf(s, "x.q")}) FROM unnest(v_queues) x (q);
  v_limited := EXISTS (SELECT 1 FROM ${s}.limits l WHERE l.queue = ANY (v_queues));
  FOR m IN SELECT value FROM jsonb_array_elements(batch) LOOP
    IF m ? 'dedupeMs' AND EXISTS (SELECT 1 FROM ${s}.dedupe
        WHERE queue = m->>'queue' AND id = m->>'id' AND until > v_now) THEN
      v_out := v_out || false;
      CONTINUE;
    END IF;
    v_at := (m->>'executeAt')::bigint;
    v_created := ${s}.insert_message_keyed(m, v_now, v_now, v_limited);
    IF v_created THEN
      IF m ? 'dedupeMs' THEN
        INSERT INTO ${s}.dedupe (queue, id, until)
          VALUES (m->>'queue', m->>'id', v_now + (m->>'dedupeMs')::bigint)
          ON CONFLICT (queue, id) DO UPDATE SET until = EXCLUDED.until;
      END IF;
      IF coalesce(v_at, 0) <= v_now THEN v_wake := v_wake || (m->>'queue'); END IF;
    ELSIF m ? 'schedule' THEN
      -- A periodic message declared again: its definition is replaced. Waiting with another
      -- schedule, it moves to the new run time; with the same one it keeps its own; running, the
      -- run in progress keeps its time and its settlement applies the new definition.
      UPDATE ${s}.messages t SET
          topic = m->>'topic', payload = m->>'payload', priority = (m->>'priority')::smallint,
          retries = (m->>'retries')::integer, timeout_ms = (m->>'timeoutMs')::bigint,
          schedule = m->'schedule', result_ttl_ms = (m->>'resultTtlMs')::bigint,
          headers = m->'headers', expires_at = (m->>'expiresAt')::bigint,
          state = CASE WHEN t.state = 'running' OR t.schedule = m->'schedule' THEN t.state
                       WHEN v_at > v_now THEN 'delayed' ELSE 'ready' END,
          run_at = CASE WHEN t.state = 'running' OR t.schedule = m->'schedule' THEN t.run_at
                        WHEN v_at > v_now THEN v_at END,
          execute_at = CASE WHEN t.state = 'running' OR t.schedule = m->'schedule'
                            THEN t.execute_at ELSE v_at END
        WHERE t.queue = m->>'queue' AND t.id = m->>'id';
      v_wake := v_wake || (m->>'queue');
    ELSIF m ? 'debounceMs' THEN
      -- Debounced: a running message of the id keeps this one as its follow-up (it replaces it
      -- at its settlement); a waiting one is replaced, keeping its place, with the new due time.
      UPDATE ${s}.messages t SET follow_up = m || jsonb_build_object('enqueuedAt', v_now)
        WHERE t.queue = m->>'queue' AND t.id = m->>'id' AND t.state = 'running';
      IF NOT FOUND THEN
        UPDATE ${s}.messages t SET
            topic = m->>'topic', payload = m->>'payload', priority = (m->>'priority')::smallint,
            retries = (m->>'retries')::integer, timeout_ms = (m->>'timeoutMs')::bigint,
            schedule = m->'schedule', result_ttl_ms = (m->>'resultTtlMs')::bigint,
            headers = m->'headers', expires_at = (m->>'expiresAt')::bigint, execute_at = v_at,
            attempt = 1, stalls = 0, last_error = NULL,
            state = CASE WHEN v_at > v_now THEN 'delayed' ELSE 'ready' END,
            run_at = CASE WHEN v_at > v_now THEN v_at END
          WHERE t.queue = m->>'queue' AND t.id = m->>'id';
        IF coalesce(v_at, 0) <= v_now THEN v_wake := v_wake || (m->>'queue'); END IF;
      END IF;
    END IF;
    v_out := v_out || v_created;
  END LOOP;
  PERFORM pg_notify('${readyChannel(s)}', q) FROM (SELECT DISTINCT unnest(v_wake) AS q) w;
  RETURN v_out;
END
$$;

CREATE OR REPLACE FUNCTION ${s}.enqueue_plain(batch jsonb)
RETURNS TABLE (queue text, id text) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := ${s}.now_ms();
  v_queues text[];
  v_missing text;
  v_limited boolean;
  v_wake text[];
  v_skipped_queues text[];
  v_skipped_ids text[];
BEGIN
  SELECT array_agg(DISTINCT e->>'queue') INTO v_queues FROM jsonb_array_elements(batch) e;
  -- Each queue of the batch once: locked against its deletion until this commits (see
  -- ./queue-locks-sql.ts), or missing.
  SELECT x.q INTO v_missing FROM unnest(v_queues) x (q)
    LEFT JOIN LATERAL (SELECT true AS found FROM ${s}.queues k WHERE k.name = x.q
                         FOR KEY SHARE) k ON true
    WHERE k.found IS NULL LIMIT 1;
  IF v_missing IS NOT NULL THEN
    RAISE EXCEPTION 'queue "%" is not declared', v_missing USING ERRCODE = 'RQ001', DETAIL = v_missing;
  END IF;
  PERFORM pg_advisory_xact_lock_shared(${keysLockOf(s, "x.q")}) FROM unnest(v_queues) x (q);
  -- A batch for queues without limits stores no keys and reads no limits per row.
  v_limited := EXISTS (SELECT 1 FROM ${s}.limits l WHERE l.queue = ANY (v_queues));
  WITH b AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset(batch) AS (queue text, id text, topic text,
        payload text, priority smallint, retries integer, "timeoutMs" bigint,
        "executeAt" bigint, "resultTtlMs" bigint, headers jsonb, "expiresAt" bigint))
      WITH ORDINALITY AS m(queue, id, topic, payload, priority, retries, "timeoutMs",
        "executeAt", "resultTtlMs", headers, "expiresAt", n)
  ), ins AS (
    INSERT INTO ${s}.messages AS t (queue, id, state, run_at, topic, payload, priority, retries,
        timeout_ms, execute_at, schedule, result_ttl_ms, headers, expires_at, enqueued_at, lkeys)
      SELECT m.queue, m.id,
          CASE WHEN m."executeAt" > v_now THEN 'delayed' ELSE 'ready' END,
          CASE WHEN m."executeAt" > v_now THEN m."executeAt" END,
          m.topic, m.payload, m.priority, m.retries, m."timeoutMs", m."executeAt", NULL,
          m."resultTtlMs", m.headers, m."expiresAt", v_now,
          CASE WHEN v_limited THEN ${s}.limit_keys_at(m.queue, m.topic, m.payload) END
        FROM b m ORDER BY m.n
      ON CONFLICT (queue, id) DO NOTHING
      RETURNING t.queue, t.id, t.state = 'ready' AS ready
  ), skipped AS (
    SELECT m.queue, m.id, m.n FROM b m
      WHERE NOT EXISTS (SELECT 1 FROM ins i WHERE i.queue = m.queue AND i.id = m.id)
  )
  SELECT (SELECT array_agg(DISTINCT i.queue) FILTER (WHERE i.ready) FROM ins i),
         (SELECT array_agg(k.queue ORDER BY k.n) FROM skipped k),
         (SELECT array_agg(k.id ORDER BY k.n) FROM skipped k)
    INTO v_wake, v_skipped_queues, v_skipped_ids;
  PERFORM pg_notify('${readyChannel(s)}', q) FROM unnest(v_wake) q;
  IF v_skipped_ids IS NOT NULL THEN
    RETURN QUERY SELECT * FROM unnest(v_skipped_queues, v_skipped_ids);
  END IF;
END
$$;
`;

/**
 * `declare_limits` as in migration 6, re-stamping the topic's rows (every state: the running ones
 * count a concurrency group's slots) under the exclusive keys lock of the queue.
 */
const declare = (s: string): string => `
CREATE OR REPLACE FUNCTION ${s}.declare_limits(p_queue text, p_topic text, p_limits jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_old ${s}.limits;
BEGIN
  PERFORM pg_advisory_xact_lock(${keysLockOf(s, "p_queue")});
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
  UPDATE ${s}.messages m SET lkeys = k.v
    FROM (SELECT x.id, ${s}.limit_keys_at(p_queue, x.topic, x.payload) AS v
            FROM ${s}.messages x WHERE x.queue = p_queue) k
    WHERE m.queue = p_queue AND m.id = k.id AND m.lkeys IS DISTINCT FROM k.v;
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

/** Migration 9's statements: the stamped keys here, the reading side in ./limit-keys-take-sql.ts. */
export const limitKeysMigration = (s: string): string =>
  columns(s) + inserts(s) + declare(s) + keyedTakeFunctions(s);

/**
 * SQL functions of the Postgres broker on the way in: `enqueue` (with unique ids, dedupe
 * windows, periodic replacement and debounce), `take` (due delayed rows become ready, lost leases
 * are recovered, then a batch is leased with `FOR UPDATE SKIP LOCKED`), `recover` and
 * `next_wake` (when an idle receiver has to look again without a notification). Part of
 * migration 2 (see ./migrations.ts).
 *
 * A row that becomes ready sends `pg_notify('<schema>.ready', queue)`; inside a caller's
 * transaction the notification leaves at its commit, and never after a rollback.
 */

import { readyChannel } from "./channels.js";

export const takeFunctions = (s: string): string => `
CREATE FUNCTION ${s}.insert_message(m jsonb, p_now bigint, p_enqueued_at bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_at bigint := (m->>'executeAt')::bigint;
BEGIN
  INSERT INTO ${s}.messages (queue, id, state, run_at, topic, payload, priority, retries,
      timeout_ms, execute_at, schedule, result_ttl_ms, headers, expires_at, enqueued_at)
    VALUES (m->>'queue', m->>'id',
      CASE WHEN v_at > p_now THEN 'delayed' ELSE 'ready' END,
      CASE WHEN v_at > p_now THEN v_at END,
      m->>'topic', m->>'payload', (m->>'priority')::smallint, (m->>'retries')::integer,
      (m->>'timeoutMs')::bigint, v_at, m->'schedule', (m->>'resultTtlMs')::bigint,
      m->'headers', (m->>'expiresAt')::bigint, p_enqueued_at)
    ON CONFLICT (queue, id) DO NOTHING;
  RETURN FOUND;
END
$$;

CREATE FUNCTION ${s}.enqueue(batch jsonb) RETURNS boolean[] LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_missing text;
  m jsonb;
  v_at bigint;
  v_created boolean;
  v_out boolean[] := '{}';
  v_wake text[] := '{}';
BEGIN
  SELECT x.q INTO v_missing
    FROM (SELECT DISTINCT e->>'queue' AS q FROM jsonb_array_elements(batch) e) x
    WHERE NOT EXISTS (SELECT 1 FROM ${s}.queues WHERE name = x.q) LIMIT 1;
  IF v_missing IS NOT NULL THEN
    RAISE EXCEPTION 'queue "%" is not declared', v_missing USING ERRCODE = 'RQ001', DETAIL = v_missing;
  END IF;
  FOR m IN SELECT value FROM jsonb_array_elements(batch) LOOP
    IF m ? 'dedupeMs' AND EXISTS (SELECT 1 FROM ${s}.dedupe
        WHERE queue = m->>'queue' AND id = m->>'id' AND until > v_now) THEN
      v_out := v_out || false;
      CONTINUE;
    END IF;
    v_at := (m->>'executeAt')::bigint;
    v_created := ${s}.insert_message(m, v_now, v_now);
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

CREATE FUNCTION ${s}.recover(p_queues text[], p_max_stalls integer, p_now bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_back text[];
BEGIN
  WITH lost AS (
    SELECT m.queue, m.id FROM ${s}.messages m
      WHERE m.state = 'running' AND m.queue = ANY (p_queues)
        AND (m.lease_until <= p_now OR (m.holder IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM ${s}.consumers c WHERE c.name = m.holder AND c.expires_at > p_now)))
      FOR UPDATE SKIP LOCKED
  ), gone AS (
    DELETE FROM ${s}.messages t USING lost
      WHERE t.queue = lost.queue AND t.id = lost.id AND t.stalls + 1 > p_max_stalls
      RETURNING t.queue, t.id, t.stalls, ${s}.message_json(t) AS message
  ), buried AS (
    INSERT INTO ${s}.dead (queue, id, message, error, failed_at)
      SELECT g.queue, g.id, g.message || jsonb_build_object('stalls', g.stalls + 1),
        jsonb_build_object('name', 'StalledError', 'code', 'STALLED', 'message',
          'Lease expired ' || (g.stalls + 1) || ' times without the message being settled (worker crashed or hung)'),
        p_now
      FROM gone g
  ), back AS (
    UPDATE ${s}.messages t SET state = 'ready', stalls = t.stalls + 1, token = NULL,
        lease_until = NULL, holder = NULL
      FROM lost WHERE t.queue = lost.queue AND t.id = lost.id AND t.stalls + 1 <= p_max_stalls
      RETURNING t.queue
  )
  SELECT array_agg(DISTINCT queue) INTO v_back FROM back;
  IF v_back IS NULL THEN RETURN 0; END IF;
  PERFORM pg_notify('${readyChannel(s)}', q) FROM unnest(v_back) q;
  RETURN array_length(v_back, 1);
END
$$;

CREATE FUNCTION ${s}.take(p_queues text[], p_max integer, p_lease bigint, p_consumer text,
    p_recover boolean, p_max_stalls integer)
RETURNS TABLE (message jsonb, token bigint, lease_until bigint, priority smallint, seq bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := ${s}.now_ms();
  v_active text[];
BEGIN
  SELECT array_agg(name) INTO v_active FROM ${s}.queues WHERE name = ANY (p_queues) AND NOT paused;
  IF v_active IS NULL THEN RETURN; END IF;
  IF p_recover THEN PERFORM ${s}.recover(v_active, p_max_stalls, v_now); END IF;
  UPDATE ${s}.messages t SET state = 'ready', run_at = NULL
    FROM (SELECT d.queue, d.id FROM ${s}.messages d
            WHERE d.state = 'delayed' AND d.queue = ANY (v_active) AND d.run_at <= v_now
            FOR UPDATE SKIP LOCKED) due
    WHERE t.queue = due.queue AND t.id = due.id;
  RETURN QUERY WITH picked AS (
    SELECT r.queue, r.id FROM ${s}.messages r
      WHERE r.state = 'ready' AND r.queue = ANY (v_active)
      ORDER BY r.priority, r.seq LIMIT p_max FOR UPDATE SKIP LOCKED
  ), leased AS (
    UPDATE ${s}.messages t SET state = 'running', token = nextval('${s}.tokens'),
        lease_until = v_now + p_lease, holder = p_consumer
      FROM picked WHERE t.queue = picked.queue AND t.id = picked.id
      RETURNING ${s}.message_json(t) AS message, t.token, t.lease_until, t.priority, t.seq
  )
  SELECT l.message, l.token, l.lease_until, l.priority, l.seq FROM leased l;
END
$$;

CREATE FUNCTION ${s}.next_wake(p_queues text[]) RETURNS TABLE (now bigint, wake bigint)
LANGUAGE sql STABLE AS $$
  SELECT ${s}.now_ms(), LEAST(
    (SELECT min(d.run_at) FROM unnest(p_queues) q, LATERAL (
       SELECT run_at FROM ${s}.messages
         WHERE state = 'delayed' AND queue = q ORDER BY run_at LIMIT 1) d),
    (SELECT min(r.lease_until) FROM ${s}.messages r
       WHERE r.state = 'running' AND r.queue = ANY (p_queues)),
    (SELECT min(c.expires_at) FROM ${s}.consumers c WHERE c.name IN (
       SELECT r.holder FROM ${s}.messages r WHERE r.state = 'running' AND r.queue = ANY (p_queues))))
$$;
`;

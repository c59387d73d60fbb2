/**
 * Migration 8, "queue locks instead of a foreign key": `messages.queue` no longer references
 * `queues`. The foreign key checked every inserted row with a trigger that locks its queue row
 * (a fifth of a 1,000-message `enqueue_plain`); instead each way in locks the queues it writes
 * to once (`FOR KEY SHARE`, the lock the foreign key took), and `delete_queue` deletes the queue
 * row, which waits for those locks, then its messages in a statement of its own that sees what
 * the enqueues committed meanwhile. So no message outlives its queue, as with the foreign key.
 */
import { readyChannel } from "./channels.js";

export const queueLocks = (s: string): string => `
ALTER TABLE ${s}.messages DROP CONSTRAINT messages_queue_fkey;

CREATE OR REPLACE FUNCTION ${s}.insert_message(m jsonb, p_now bigint, p_enqueued_at bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_at bigint := (m->>'executeAt')::bigint;
BEGIN
  PERFORM 1 FROM ${s}.queues WHERE name = m->>'queue' FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'queue "%" is not declared', m->>'queue' USING ERRCODE = 'RQ001',
      DETAIL = m->>'queue';
  END IF;
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

CREATE OR REPLACE FUNCTION ${s}.enqueue_plain(batch jsonb)
RETURNS TABLE (queue text, id text) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := ${s}.now_ms();
  v_missing text;
  v_wake text[];
  v_skipped_queues text[];
  v_skipped_ids text[];
BEGIN
  -- Each queue of the batch once: locked against its deletion until this commits, or missing.
  SELECT x.q INTO v_missing
    FROM (SELECT DISTINCT e->>'queue' AS q FROM jsonb_array_elements(batch) e) x
    LEFT JOIN LATERAL (SELECT true AS found FROM ${s}.queues k WHERE k.name = x.q
                         FOR KEY SHARE) k ON true
    WHERE k.found IS NULL LIMIT 1;
  IF v_missing IS NOT NULL THEN
    RAISE EXCEPTION 'queue "%" is not declared', v_missing USING ERRCODE = 'RQ001', DETAIL = v_missing;
  END IF;
  WITH b AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset(batch) AS (queue text, id text, topic text,
        payload text, priority smallint, retries integer, "timeoutMs" bigint,
        "executeAt" bigint, "resultTtlMs" bigint, headers jsonb, "expiresAt" bigint))
      WITH ORDINALITY AS m(queue, id, topic, payload, priority, retries, "timeoutMs",
        "executeAt", "resultTtlMs", headers, "expiresAt", n)
  ), ins AS (
    INSERT INTO ${s}.messages AS t (queue, id, state, run_at, topic, payload, priority, retries,
        timeout_ms, execute_at, schedule, result_ttl_ms, headers, expires_at, enqueued_at)
      SELECT m.queue, m.id,
          CASE WHEN m."executeAt" > v_now THEN 'delayed' ELSE 'ready' END,
          CASE WHEN m."executeAt" > v_now THEN m."executeAt" END,
          m.topic, m.payload, m.priority, m.retries, m."timeoutMs", m."executeAt", NULL,
          m."resultTtlMs", m.headers, m."expiresAt", v_now
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

CREATE FUNCTION ${s}.delete_queue(p_queue text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- Waits for the enqueues that hold the queue row; the next statement sees what they stored.
  DELETE FROM ${s}.queues WHERE name = p_queue;
  DELETE FROM ${s}.messages WHERE queue = p_queue;
END
$$;
`;

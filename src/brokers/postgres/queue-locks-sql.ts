/**
 * Migration 8, "queue locks instead of a foreign key": `messages.queue` no longer references
 * `queues`. The foreign key checked every inserted row with a trigger that locks its queue row
 * (a fifth of a 1,000-message `enqueue_plain`); instead each way in locks the queues it writes
 * to once (`FOR KEY SHARE`, the lock the foreign key took: `enqueue_plain` in ./enqueue-sql.ts
 * for its batch, `insert_message` here for each message), and `delete_queue` deletes the queue
 * row, which waits for those locks, then its messages in a statement of its own that sees what
 * the enqueues committed meanwhile. So no message outlives its queue, as with the foreign key.
 */
export const queueLocks = (s: string): string => `
ALTER TABLE ${s}.messages DROP CONSTRAINT IF EXISTS messages_queue_fkey;

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

CREATE FUNCTION ${s}.delete_queue(p_queue text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- Waits for the enqueues that hold the queue row; the next statement sees what they stored.
  DELETE FROM ${s}.queues WHERE name = p_queue;
  DELETE FROM ${s}.messages WHERE queue = p_queue;
END
$$;
`;

/**
 * SQL functions of the Postgres broker on the way out: `settle` (ack, requeue, dead, each applied
 * only while its token is the current lease, with its result stored in the same step, and a
 * debounced follow-up put in the message's place) and
 * `counts` (lost leases recovered first). Part of migration 2 (see ./migrations.ts).
 */
import { readyChannel, resultChannel } from "./channels.js";

export const settleFunctions = (s: string): string => `
CREATE FUNCTION ${s}.store_result(p_id text, p_stored jsonb, p_ttl bigint, p_now bigint)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO ${s}.results (id, stored, expires_at) VALUES (p_id, p_stored, p_now + p_ttl)
    ON CONFLICT (id) DO UPDATE SET stored = EXCLUDED.stored, expires_at = EXCLUDED.expires_at;
  SELECT pg_notify('${resultChannel(s)}', p_id);
$$;

CREATE FUNCTION ${s}.settle(batch jsonb, p_max_dead integer) RETURNS boolean[]
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  e jsonb;
  v_ok boolean;
  v_at bigint;
  v_message jsonb;
  v_follow jsonb;
  v_out boolean[] := '{}';
  v_wake text[] := '{}';
BEGIN
  FOR e IN SELECT value FROM jsonb_array_elements(batch) LOOP
    IF e->>'kind' = 'ack' THEN
      DELETE FROM ${s}.messages
        WHERE queue = e->>'queue' AND id = e->>'id' AND state = 'running'
          AND token = (e->>'token')::bigint
        RETURNING follow_up INTO v_follow;
      v_ok := FOUND;
    ELSIF e->>'kind' = 'requeue' THEN
      v_at := coalesce((e->>'executeAt')::bigint, 0);
      UPDATE ${s}.messages SET
          attempt = (e->>'attempt')::integer, stalls = 0, last_error = e->'lastError',
          cancel = NULL, token = NULL, lease_until = NULL, holder = NULL,
          state = CASE WHEN v_at > v_now THEN 'delayed' ELSE 'ready' END,
          run_at = CASE WHEN v_at > v_now THEN v_at END,
          execute_at = CASE WHEN v_at > v_now THEN v_at ELSE execute_at END
        WHERE queue = e->>'queue' AND id = e->>'id' AND state = 'running'
          AND token = (e->>'token')::bigint
        RETURNING follow_up INTO v_follow;
      v_ok := FOUND;
      IF v_ok AND v_at <= v_now THEN v_wake := v_wake || (e->>'queue'); END IF;
    ELSE
      DELETE FROM ${s}.messages t
        WHERE queue = e->>'queue' AND id = e->>'id' AND state = 'running'
          AND token = (e->>'token')::bigint
        RETURNING ${s}.message_json(t), t.follow_up INTO v_message, v_follow;
      v_ok := FOUND;
      IF v_ok THEN
        INSERT INTO ${s}.dead (queue, id, message, error, failed_at)
          VALUES (e->>'queue', e->>'id', v_message, e->'error', v_now);
        -- The newest p_max_dead dead letters of the queue are kept.
        DELETE FROM ${s}.dead WHERE queue = e->>'queue' AND seq <= (
          SELECT seq FROM ${s}.dead WHERE queue = e->>'queue'
            ORDER BY seq DESC OFFSET p_max_dead LIMIT 1);
      END IF;
    END IF;
    IF v_ok AND v_follow IS NOT NULL THEN
      -- Debounced while it ran: the follow-up becomes the id's message, in a new place.
      DELETE FROM ${s}.messages WHERE queue = e->>'queue' AND id = e->>'id';
      PERFORM ${s}.insert_message(v_follow, v_now, (v_follow->>'enqueuedAt')::bigint);
      v_wake := v_wake || (e->>'queue');
    END IF;
    IF v_ok AND e ? 'result' THEN
      PERFORM ${s}.store_result(e->>'id', e->'result'->'stored',
        (e->'result'->>'ttlMs')::bigint, v_now);
    END IF;
    v_out := v_out || v_ok;
  END LOOP;
  PERFORM pg_notify('${readyChannel(s)}', q) FROM (SELECT DISTINCT unnest(v_wake) AS q) w;
  RETURN v_out;
END
$$;

CREATE FUNCTION ${s}.counts(p_queue text, p_max_stalls integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ${s}.recover(ARRAY[p_queue], p_max_stalls, ${s}.now_ms());
  RETURN (SELECT jsonb_build_object(
    'ready', count(*) FILTER (WHERE state = 'ready'),
    'delayed', count(*) FILTER (WHERE state = 'delayed'),
    'running', count(*) FILTER (WHERE state = 'running'),
    'dead', (SELECT count(*) FROM ${s}.dead WHERE queue = p_queue))
    FROM ${s}.messages WHERE queue = p_queue);
END
$$;
`;

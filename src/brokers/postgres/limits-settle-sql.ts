/**
 * Migration 6, "limits", the way out: `settle` and `counts` replaced (see ./limits-sql.ts).
 */
import { readyChannel } from "./channels.js";

/**
 * `settle` as in migration 2, and a lease of a topic with a concurrency limit that ends wakes the
 * queue's receivers (its slot is free). `counts` gives `limited` and `limitedBy`.
 */
export const limitedSettle = (s: string): string => `
CREATE OR REPLACE FUNCTION ${s}.settle(batch jsonb, p_max_dead integer) RETURNS boolean[]
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_limits boolean := EXISTS (SELECT 1 FROM ${s}.limits);
  e jsonb;
  v_ok boolean;
  v_at bigint;
  v_message jsonb;
  v_follow jsonb;
  v_topic text;
  v_out boolean[] := '{}';
  v_wake text[] := '{}';
BEGIN
  FOR e IN SELECT value FROM jsonb_array_elements(batch) LOOP
    IF e->>'kind' = 'ack' THEN
      DELETE FROM ${s}.messages
        WHERE queue = e->>'queue' AND id = e->>'id' AND state = 'running'
          AND token = (e->>'token')::bigint
        RETURNING follow_up, topic INTO v_follow, v_topic;
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
        RETURNING follow_up, topic INTO v_follow, v_topic;
      v_ok := FOUND;
      IF v_ok AND v_at <= v_now THEN v_wake := v_wake || (e->>'queue'); END IF;
    ELSE
      DELETE FROM ${s}.messages t
        WHERE queue = e->>'queue' AND id = e->>'id' AND state = 'running'
          AND token = (e->>'token')::bigint
        RETURNING ${s}.message_json(t), t.follow_up, t.topic INTO v_message, v_follow, v_topic;
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
    IF v_ok AND v_limits AND EXISTS (SELECT 1 FROM ${s}.limits
        WHERE queue = e->>'queue' AND topic = v_topic AND c_limit IS NOT NULL) THEN
      v_wake := v_wake || (e->>'queue');
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
  SELECT jsonb_object_agg(h.topic, h.n), sum(h.n) INTO v_by, v_held FROM (
    SELECT p.topic, count(*) AS n FROM ${s}.limit_plan(ARRAY[p_queue], v_now) p
      WHERE p.held IS NOT NULL GROUP BY p.topic) h;
  IF coalesce(v_held, 0) = 0 THEN RETURN v_counts; END IF;
  RETURN v_counts || jsonb_build_object('ready', (v_counts->>'ready')::bigint - v_held,
    'limited', v_held, 'limitedBy', v_by);
END
$$;
`;

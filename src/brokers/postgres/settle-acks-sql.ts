/**
 * `settle_acks(jsonb)`: the set-based way out for a batch of acknowledgements only, each
 * (queue, id) and each id once (what a busy worker sends). One `DELETE ... USING` applies every
 * ack whose token is still the message's lease, the results of the applied ones are stored and
 * announced in the same statement, and a debounced follow-up takes its message's place, as
 * `settle` does one message at a time. A freed slot of a topic with a concurrency limit wakes
 * the queue's receivers. Answers a flag per ack, in the batch's order. Part of migration 7
 * (./migrations.ts).
 */
import type { Settlement } from "../broker.js";
import { readyChannel, resultChannel } from "./channels.js";

export const settleAcksFunction = (s: string): string => `
CREATE FUNCTION ${s}.settle_acks(batch jsonb) RETURNS boolean[] LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := ${s}.now_ms();
  v_out boolean[];
  v_wake text[];
  v_follow jsonb[];
  v_told bigint;
  f jsonb;
BEGIN
  WITH b AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset(batch) AS (queue text, id text, token bigint,
        result jsonb))
      WITH ORDINALITY AS x(queue, id, token, result, n)
  ), gone AS (
    DELETE FROM ${s}.messages t USING b
      WHERE t.queue = b.queue AND t.id = b.id AND t.state = 'running' AND t.token = b.token
      RETURNING t.queue, t.id, t.topic, t.follow_up
  ), stored AS (
    INSERT INTO ${s}.results (id, stored, expires_at)
      SELECT b.id, b.result->'stored', v_now + (b.result->>'ttlMs')::bigint
        FROM b JOIN gone g ON g.queue = b.queue AND g.id = b.id
        WHERE b.result IS NOT NULL
      ON CONFLICT (id) DO UPDATE SET stored = EXCLUDED.stored, expires_at = EXCLUDED.expires_at
      RETURNING id
  )
  SELECT
    (SELECT array_agg(g.id IS NOT NULL ORDER BY b.n)
       FROM b LEFT JOIN gone g ON g.queue = b.queue AND g.id = b.id),
    (SELECT count(pg_notify('${resultChannel(s)}', st.id)) FROM stored st),
    (SELECT array_agg(DISTINCT g.queue) FROM gone g
       WHERE g.follow_up IS NOT NULL OR EXISTS (SELECT 1 FROM ${s}.limits l
         WHERE l.queue = g.queue AND l.topic = g.topic AND l.c_limit IS NOT NULL)),
    (SELECT array_agg(g.follow_up) FROM gone g WHERE g.follow_up IS NOT NULL)
    INTO v_out, v_told, v_wake, v_follow;
  -- Debounced while it ran: the follow-up becomes the id's message, in a new place.
  IF v_follow IS NOT NULL THEN
    FOREACH f IN ARRAY v_follow LOOP
      PERFORM ${s}.insert_message(f, v_now, (f->>'enqueuedAt')::bigint);
    END LOOP;
  END IF;
  PERFORM pg_notify('${readyChannel(s)}', q) FROM unnest(v_wake) q;
  RETURN v_out;
END
$$;
`;

/** Whether `settlements` can go through `settle_acks`: acks only, each message and id once. */
export function isAckBatch(settlements: readonly Settlement[]): boolean {
  const ids = new Set<string>();
  for (const s of settlements) {
    if (s.kind !== "ack") return false;
    const id = s.delivery.message.id;
    if (ids.has(id)) return false;
    ids.add(id);
  }
  return true;
}

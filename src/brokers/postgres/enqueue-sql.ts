/**
 * `enqueue_plain(jsonb)`: the set-based way in for messages that need none of `enqueue`'s
 * per-message rules (no dedupe window, no schedule, no debounce, each id once in the batch). One
 * `INSERT ... SELECT` stores the whole batch in its order (so `seq` keeps FIFO) instead of a loop
 * of single inserts; an id already taken is skipped (`ON CONFLICT DO NOTHING`) and left out of
 * the answer, which lists the (queue, id) pairs that were NOT created (usually none, so the
 * reply stays small). Part of migration 4 (./migrations.ts).
 */
import type { OutgoingMessage } from "../broker.js";
import { readyChannel } from "./channels.js";

export const enqueuePlainFunction = (s: string): string => `
CREATE FUNCTION ${s}.enqueue_plain(batch jsonb)
RETURNS TABLE (queue text, id text) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := ${s}.now_ms();
  v_missing text;
  v_wake text[];
  v_skipped_queues text[];
  v_skipped_ids text[];
BEGIN
  -- Each queue of the batch once: locked against its deletion until this commits (see
  -- ./queue-locks-sql.ts), or missing.
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
`;

/** Whether `messages` can go through `enqueue_plain`: no per-message rule, no id twice. */
export function isPlainBatch(messages: readonly OutgoingMessage[]): boolean {
  const seen = new Set<string>();
  for (const m of messages) {
    if (m.dedupeMs !== undefined || m.schedule !== undefined || m.debounceMs !== undefined)
      return false;
    const key = `${m.queue}\n${m.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

/** A created flag per message of a plain batch, from the (queue, id) pairs it did not create. */
export function createdFlags(
  messages: readonly OutgoingMessage[],
  skipped: readonly { readonly queue: string; readonly id: string }[],
): boolean[] {
  if (skipped.length === 0) return messages.map(() => true);
  const taken = new Set(skipped.map((c) => `${c.queue}\n${c.id}`));
  return messages.map((m) => !taken.has(`${m.queue}\n${m.id}`));
}

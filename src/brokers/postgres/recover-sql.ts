/**
 * Migration 5, the dead-letter cap on the stall path: `recover` (which puts messages whose lease
 * ran out back in their queue, or dead-letters them as `STALLED` once they stalled more than
 * `maxStalls` times) now keeps only the newest `maxDeadLetters` dead letters of each queue it
 * dead-lettered into, as `settle` does.
 *
 * `recover(queues, max_stalls, now)` keeps its signature: `take`, `counts` and the removal of a
 * heartbeat call it with three arguments, and those callers are not changed here. The cap is
 * read from `<schema>.settings`, a one-row table each broker writes its `maxDeadLetters` into at
 * `connect()` (the last broker to connect sets it for the schema; brokers of one schema are
 * expected to share their options). Not a new argument: every caller would have to change. Not
 * a session setting (`set_config`): pooled connections, the caller's own pool and the
 * keep-alive thread's connections would each need it set, and a connection without it would
 * silently trim nothing. Without a row (a schema migrated by `repid migrate`, no broker connected
 * since) the default, 10,000, applies.
 */
import { readyChannel } from "./channels.js";

/** The cap used until a broker has written its own (the option's default). */
export const DEFAULT_MAX_DEAD = 10_000;

export const recoverCap = (s: string): string => `
CREATE TABLE ${s}.settings (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  max_dead integer NOT NULL CHECK (max_dead >= 0)
);

CREATE OR REPLACE FUNCTION ${s}.recover(p_queues text[], p_max_stalls integer, p_now bigint)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_back text[];
  v_dead text[];
  v_max integer;
  v_queue text;
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
      RETURNING t.queue, t.id, t.seq, t.stalls, ${s}.message_json(t) AS message
  ), buried AS (
    -- In queue order, so that the newest dead letters (kept by the cap) are the latest messages.
    INSERT INTO ${s}.dead (queue, id, message, error, failed_at)
      SELECT g.queue, g.id, g.message || jsonb_build_object('stalls', g.stalls + 1),
        jsonb_build_object('name', 'StalledError', 'code', 'STALLED', 'message',
          'Lease expired ' || (g.stalls + 1) || ' times without the message being settled (worker crashed or hung)'),
        p_now
      FROM gone g ORDER BY g.seq
      RETURNING queue
  ), back AS (
    UPDATE ${s}.messages t SET state = 'ready', stalls = t.stalls + 1, token = NULL,
        lease_until = NULL, holder = NULL
      FROM lost WHERE t.queue = lost.queue AND t.id = lost.id AND t.stalls + 1 <= p_max_stalls
      RETURNING t.queue
  )
  SELECT (SELECT array_agg(DISTINCT queue) FROM back), (SELECT array_agg(DISTINCT queue) FROM buried)
    INTO v_back, v_dead;
  IF v_dead IS NOT NULL THEN
    BEGIN
      v_max := coalesce((SELECT max_dead FROM ${s}.settings), ${DEFAULT_MAX_DEAD});
    EXCEPTION WHEN insufficient_privilege THEN
      -- A role granted the tables before this one existed: the default cap, not a failed take.
      v_max := ${DEFAULT_MAX_DEAD};
    END;
    -- The newest v_max dead letters of each queue are kept (as settle does with its p_max_dead).
    FOREACH v_queue IN ARRAY v_dead LOOP
      DELETE FROM ${s}.dead WHERE queue = v_queue AND seq <= (
        SELECT seq FROM ${s}.dead WHERE queue = v_queue ORDER BY seq DESC OFFSET v_max LIMIT 1);
    END LOOP;
  END IF;
  IF v_back IS NULL THEN RETURN 0; END IF;
  PERFORM pg_notify('${readyChannel(s)}', q) FROM unnest(v_back) q;
  RETURN array_length(v_back, 1);
END
$$;
`;

/** Records this broker's `maxDeadLetters` as the schema's cap (for `recover`), at connect. */
export const writeMaxDead = (s: string): string => `
INSERT INTO ${s}.settings (id, max_dead) VALUES (true, $1)
  ON CONFLICT (id) DO UPDATE SET max_dead = EXCLUDED.max_dead
  WHERE ${s}.settings.max_dead IS DISTINCT FROM EXCLUDED.max_dead`;

/**
 * The Postgres broker's schema, as numbered migrations applied in order by `./schema.ts`. A
 * migration, once released, never changes: a change is a new one (`CREATE OR REPLACE FUNCTION`
 * for functions). Every statement names the schema `s` (validated as a plain lowercase
 * identifier, so it needs no quoting).
 *
 * Tables
 * - queues: declared queues and their pause flag.
 * - messages: one row per live message (ready, delayed or running), keyed by (queue, id). `seq`
 *   orders a priority level (FIFO; a requeued or recovered message keeps its place); a running
 *   row carries its lease: `token` (fencing), `lease_until`, `holder` (the consumer), and
 *   `follow_up`, a debounced message that replaces it at its settlement.
 * - dead: dead letters with the message as JSON and the failure.
 * - consumers: heartbeats (expiry per consumer name).
 * - results: stored results until `expires_at`.
 * - dedupe: ids kept taken until `until` (dedupe windows).
 * - updates: the last job update (progress, lifecycle) per job until `expires_at`.
 * - settings: one row, the dead-letter cap `recover` applies (written by each broker at connect).
 * - limits, limit_starts, limit_turns: flow-control limits per topic (see ./limits-sql.ts);
 *   messages.lkeys, a limited message's key values (see ./limit-keys-sql.ts).
 * Times are epoch milliseconds on the database's clock (`now_ms()`).
 */
import { enqueuePlainFunction } from "./enqueue-sql.js";
import { limitKeysMigration } from "./limit-keys-sql.js";
import { keyedTake } from "./limit-keys-take-sql.js";
import { limitsMigration } from "./limits-sql.js";
import { queueLocks } from "./queue-locks-sql.js";
import { recoverCap } from "./recover-sql.js";
import { settleAcksFunction } from "./settle-acks-sql.js";
import { settleFunctions } from "./settle-sql.js";
import { takeFunctions } from "./take-sql.js";
import { updateTables } from "./updates.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The statements, run in one transaction. */
  readonly sql: (s: string) => string;
}

const tables = (s: string): string => `
CREATE TABLE ${s}.queues (
  name text PRIMARY KEY,
  paused boolean NOT NULL DEFAULT false
);
CREATE SEQUENCE ${s}.tokens;
CREATE TABLE ${s}.messages (
  queue text NOT NULL REFERENCES ${s}.queues (name) ON DELETE CASCADE,
  id text NOT NULL,
  seq bigserial NOT NULL,
  state text NOT NULL CHECK (state IN ('ready', 'delayed', 'running')),
  run_at bigint,
  topic text NOT NULL,
  payload text,
  priority smallint NOT NULL,
  retries integer NOT NULL,
  timeout_ms bigint NOT NULL,
  execute_at bigint,
  schedule jsonb,
  result_ttl_ms bigint,
  headers jsonb,
  expires_at bigint,
  attempt integer NOT NULL DEFAULT 1,
  enqueued_at bigint NOT NULL,
  stalls integer NOT NULL DEFAULT 0,
  token bigint,
  lease_until bigint,
  holder text,
  last_error jsonb,
  cancel text,
  follow_up jsonb,
  PRIMARY KEY (queue, id)
);
-- Every message is inserted, updated and deleted within moments: vacuum the table after a few
-- thousand dead rows instead of a fraction of its size, without pauses, so that the space of
-- settled messages is reused and the table stays the size of its backlog.
ALTER TABLE ${s}.messages SET (autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0,
  autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 5000);
CREATE INDEX messages_ready ON ${s}.messages (queue, priority, seq) WHERE state = 'ready';
CREATE INDEX messages_delayed ON ${s}.messages (queue, run_at) WHERE state = 'delayed';
CREATE INDEX messages_running ON ${s}.messages (queue, lease_until) WHERE state = 'running';
CREATE TABLE ${s}.dead (
  seq bigserial PRIMARY KEY,
  queue text NOT NULL REFERENCES ${s}.queues (name) ON DELETE CASCADE,
  id text NOT NULL,
  message jsonb NOT NULL,
  error jsonb NOT NULL,
  failed_at bigint NOT NULL
);
CREATE INDEX dead_by_queue ON ${s}.dead (queue, seq);
CREATE INDEX dead_by_id ON ${s}.dead (queue, id);
CREATE TABLE ${s}.consumers (
  name text PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE TABLE ${s}.results (
  id text PRIMARY KEY,
  stored jsonb NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX results_expiry ON ${s}.results (expires_at);
CREATE TABLE ${s}.dedupe (
  queue text NOT NULL REFERENCES ${s}.queues (name) ON DELETE CASCADE,
  id text NOT NULL,
  until bigint NOT NULL,
  PRIMARY KEY (queue, id)
);
CREATE INDEX dedupe_expiry ON ${s}.dedupe (until);

CREATE FUNCTION ${s}.now_ms() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT (extract(epoch FROM statement_timestamp()) * 1000)::bigint
$$;

CREATE FUNCTION ${s}.message_json(m ${s}.messages) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'id', m.id, 'queue', m.queue, 'topic', m.topic, 'payload', m.payload,
    'priority', m.priority, 'retries', m.retries, 'timeoutMs', m.timeout_ms,
    'executeAt', m.execute_at, 'schedule', m.schedule, 'resultTtlMs', m.result_ttl_ms,
    'headers', m.headers, 'expiresAt', m.expires_at, 'attempt', m.attempt,
    'enqueuedAt', m.enqueued_at, 'stalls', m.stalls))
$$;
`;

/**
 * Every migration, oldest first. Version 4 (take, settle and counts replaced) is being written
 * on another branch at the same time; 5 does not depend on it (it replaces only `recover`,
 * whose signature it keeps).
 */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "tables", sql: tables },
  { version: 2, name: "functions", sql: (s) => takeFunctions(s) + settleFunctions(s) },
  { version: 3, name: "job updates", sql: updateTables },
  { version: 4, name: "set-based enqueue", sql: enqueuePlainFunction },
  { version: 5, name: "dead-letter cap on recovery", sql: recoverCap },
  { version: 6, name: "limits", sql: limitsMigration },
  { version: 7, name: "set-based acks", sql: settleAcksFunction },
  { version: 8, name: "queue locks instead of a foreign key", sql: queueLocks },
  { version: 9, name: "limit keys", sql: limitKeysMigration },
  { version: 10, name: "rate-limit starts stamped after the limits lock", sql: keyedTake },
];

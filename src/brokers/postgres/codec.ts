/**
 * What the Postgres broker sends to its SQL functions and reads back: messages as JSON (the
 * shape of `message_json` in ./migrations.ts), settlements as JSON, leased rows as deliveries.
 */
import type {
  Delivery,
  Message,
  OutgoingMessage,
  PriorityLevel,
  Schedule,
  Settlement,
} from "../broker.js";

/** A message as `enqueue(jsonb)` takes it (the options a broker does not store are dropped). */
export function encodeMessage(m: OutgoingMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id,
    queue: m.queue,
    topic: m.topic,
    priority: m.priority,
    retries: m.retries,
    timeoutMs: m.timeoutMs,
  };
  if (m.payload !== undefined) out.payload = m.payload;
  if (m.executeAt !== undefined) out.executeAt = Math.round(m.executeAt);
  if (m.schedule !== undefined) out.schedule = m.schedule;
  if (m.resultTtlMs !== undefined) out.resultTtlMs = m.resultTtlMs;
  if (m.headers !== undefined) out.headers = m.headers;
  if (m.expiresAt !== undefined) out.expiresAt = Math.round(m.expiresAt);
  if (m.dedupeMs !== undefined) out.dedupeMs = m.dedupeMs;
  if (m.debounceMs !== undefined) out.debounceMs = m.debounceMs;
  return out;
}

/** A settlement as `settle(jsonb)` takes it. */
export function encodeSettlement(s: Settlement): Record<string, unknown> {
  const d = s.delivery;
  const out: Record<string, unknown> = {
    kind: s.kind,
    queue: d.message.queue,
    id: d.message.id,
    token: d.token,
  };
  if (s.result) out.result = s.result;
  if (s.kind === "requeue") {
    out.attempt = s.attempt;
    if (s.executeAt !== undefined) out.executeAt = Math.round(s.executeAt);
    if (s.lastError !== undefined) out.lastError = s.lastError;
  } else if (s.kind === "dead") {
    out.error = s.error;
  }
  return out;
}

/** A row of `take(...)`: the leased message's columns (int8 columns come as strings). */
export interface LeasedRow {
  readonly queue: string;
  readonly id: string;
  readonly topic: string;
  readonly payload: string | null;
  readonly priority: number;
  readonly retries: number;
  readonly timeout_ms: string;
  readonly execute_at: string | null;
  readonly schedule: Schedule | null;
  readonly result_ttl_ms: string | null;
  readonly headers: Record<string, string> | null;
  readonly expires_at: string | null;
  readonly attempt: number;
  readonly enqueued_at: string;
  readonly stalls: number;
  readonly token: string;
  readonly lease_until: string;
  readonly seq: string;
}

/** The rows of one `take`, in delivery order (priority, then enqueue order). */
export function deliveries(rows: readonly LeasedRow[]): Delivery[] {
  const sorted = rows.length > 1 ? [...rows].sort(byTurn) : rows;
  return sorted.map((r) => ({
    message: messageOf(r),
    token: r.token,
    leaseUntil: Number(r.lease_until),
  }));
}

/** The message of a leased row; a column that is NULL is an option the message does not set. */
function messageOf(r: LeasedRow): Message {
  const m: { -readonly [K in keyof Message]: Message[K] } = {
    id: r.id,
    queue: r.queue,
    topic: r.topic,
    payload: r.payload ?? undefined,
    priority: r.priority as PriorityLevel,
    retries: r.retries,
    timeoutMs: Number(r.timeout_ms),
    attempt: r.attempt,
    enqueuedAt: Number(r.enqueued_at),
    stalls: r.stalls,
  };
  if (r.execute_at !== null) m.executeAt = Number(r.execute_at);
  if (r.schedule !== null) m.schedule = r.schedule;
  if (r.result_ttl_ms !== null) m.resultTtlMs = Number(r.result_ttl_ms);
  if (r.headers !== null) m.headers = r.headers;
  if (r.expires_at !== null) m.expiresAt = Number(r.expires_at);
  return m;
}

function byTurn(a: LeasedRow, b: LeasedRow): number {
  return a.priority - b.priority || Number(a.seq) - Number(b.seq);
}

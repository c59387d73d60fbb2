/**
 * What the Postgres broker sends to its SQL functions and reads back: messages as JSON (the
 * shape of `message_json` in ./migrations.ts), settlements as JSON, leased rows as deliveries.
 */
import type { Delivery, Message, OutgoingMessage, Settlement } from "../broker.js";

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

/** A row of `take(...)`. */
export interface LeasedRow {
  readonly message: Message;
  readonly token: string;
  readonly lease_until: string;
  readonly priority: number;
  readonly seq: string;
}

/** The rows of one `take`, in delivery order (priority, then enqueue order). */
export function deliveries(rows: readonly LeasedRow[]): Delivery[] {
  const sorted = rows.length > 1 ? [...rows].sort(byTurn) : rows;
  return sorted.map((r) => ({
    message: r.message,
    token: r.token,
    leaseUntil: Number(r.lease_until),
  }));
}

function byTurn(a: LeasedRow, b: LeasedRow): number {
  return a.priority - b.priority || Number(a.seq) - Number(b.seq);
}

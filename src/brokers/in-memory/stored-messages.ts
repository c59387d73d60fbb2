/**
 * What the in-memory broker stores for a message, the failure it records for a stall, and its
 * dedupe windows.
 */
import type { FailureInfo, Message, OutgoingMessage, Schedule } from "../broker.js";

/** A stored message with one fixed shape (keeps property access monomorphic on the hot path). */
export function stored(m: OutgoingMessage, now: number): Message {
  const message: { -readonly [K in keyof Message]: Message[K] } = {
    id: m.id,
    queue: m.queue,
    topic: m.topic,
    payload: m.payload,
    priority: m.priority,
    retries: m.retries,
    timeoutMs: m.timeoutMs,
    attempt: 1,
    enqueuedAt: now,
    stalls: 0,
  };
  if (m.executeAt !== undefined) message.executeAt = m.executeAt;
  if (m.schedule !== undefined) message.schedule = m.schedule;
  if (m.resultTtlMs !== undefined) message.resultTtlMs = m.resultTtlMs;
  if (m.headers !== undefined) message.headers = m.headers;
  if (m.expiresAt !== undefined) message.expiresAt = m.expiresAt;
  return message;
}

export function sameSchedule(a: Schedule | undefined, b: Schedule | undefined): boolean {
  return a?.cron === b?.cron && a?.everyMs === b?.everyMs;
}

export function stalledError(stalls: number): FailureInfo {
  return {
    name: "StalledError",
    code: "STALLED",
    message: `Lease expired ${stalls} times without the message being settled (worker crashed or hung)`,
  };
}

/** Opens a dedupe window for `id`; ended windows are dropped as new ones open (no timer). */
export function openDedupeWindow(
  windows: Map<string, number>,
  id: string,
  until: number,
  now: number,
): void {
  windows.delete(id);
  windows.set(id, until);
  // Map order is opening order: windows are swept from the oldest opened, a few per call, up to
  // the first that has not ended (a long window holds back the sweep of shorter ones behind it).
  let swept = 0;
  for (const [old, end] of windows) {
    if (end > now || swept++ >= 8) break;
    windows.delete(old);
  }
}

/**
 * The moves of one queue's records between states (see `./records.ts`): placing a record ready
 * or delayed, promoting due delayed ones, dead-lettering one, and finding the record a delivery
 * still holds. Leasing, the hottest path, stays in the broker's `#take`; the broker
 * (`./in-memory-broker.ts`) decides when each applies.
 */
import type { Delivery, FailureInfo } from "../broker.js";
import { MemoryDelivery, type QueueState, type Rec } from "./records.js";

/** A priority outside 0..2 (from a hand-made message) counts as the nearest level. */
function level(priority: number): 0 | 1 | 2 {
  return priority <= 0 ? 0 : priority >= 2 ? 2 : 1;
}

/**
 * Makes `rec` ready (`fresh`: at the tail of its level) or, with a future `executeAt`, delayed;
 * `onDelayed` hears the due time of a delayed one. A running record leaves the running list.
 */
export function place(
  q: QueueState,
  rec: Rec,
  executeAt: number | undefined,
  now: number,
  fresh: boolean,
  onDelayed: (at: number) => void,
): void {
  rec.token = "";
  if (rec.state === "running") q.running.remove(rec);
  if (executeAt !== undefined && executeAt > now) {
    rec.state = "delayed";
    rec.message = { ...rec.message, executeAt };
    q.delayed.push({ rec, at: executeAt });
    onDelayed(executeAt);
  } else {
    rec.state = "ready";
    q.ready[level(rec.message.priority)].push(rec, fresh);
  }
}

/** Dead-letters `rec`, keeping the newest `maxDead` dead letters of the queue. */
export function bury(
  q: QueueState,
  rec: Rec,
  error: FailureInfo,
  now: number,
  maxDead: number,
): void {
  if (rec.state === "running") q.running.remove(rec);
  rec.state = "gone";
  q.records.delete(rec.message.id);
  q.dead.push({ message: rec.message, error, failedAt: now });
  if (q.dead.length > maxDead) q.dead.splice(0, q.dead.length - maxDead);
}

/** Delayed records due by `now` become ready (entries of moved or removed records are skipped). */
export function promoteDue(q: QueueState, now: number): void {
  for (let top = q.delayed.peek(); top && top.at <= now; top = q.delayed.peek()) {
    q.delayed.pop();
    if (top.rec.state === "delayed" && top.rec.message.executeAt === top.at) {
      top.rec.state = "ready";
      q.ready[level(top.rec.message.priority)].push(top.rec, false);
    }
  }
}

/** The running record `d` still holds (its token is the current lease), if any. */
export function heldRecord(queues: ReadonlyMap<string, QueueState>, d: Delivery): Rec | undefined {
  // Deliveries made here carry their record; others are looked up by queue and id.
  const rec =
    d instanceof MemoryDelivery ? d.rec : queues.get(d.message.queue)?.records.get(d.message.id);
  // Flushing marks records "gone", so a stale delivery never matches a running record.
  return rec && rec.state === "running" && rec.token === d.token ? rec : undefined;
}

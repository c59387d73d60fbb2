/**
 * The moves of one queue's records between states (see `./records.ts`): placing a record ready
 * or delayed, promoting due delayed ones, dead-lettering one, and finding the record a delivery
 * still holds. Leasing, the hottest path, stays in the broker's `#take`; the broker
 * (`./in-memory-broker.ts`) decides when each applies.
 */
import type { Delivery, FailureInfo } from "../broker.js";
import { admit, endLease, levelOf as level, removeWaiting, tryRelease } from "./limit-groups.js";
import { MemoryDelivery, type LimitGroup, type QueueState, type Rec } from "./records.js";

/**
 * Makes `rec` ready (`fresh`: at the tail of its level) or, with a future `executeAt`, delayed;
 * `onDelayed` hears the due time of a delayed one. A running record leaves the running list (and
 * frees its limit slot). A ready one of a limited topic may be parked by its limits instead.
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
  // Coming back from a lease, it takes its turn in its limit group before the group releases.
  const freed = rec.state === "running" ? leaveRunning(q, rec, now, false) : undefined;
  if (executeAt !== undefined && executeAt > now) {
    rec.state = "delayed";
    rec.message = { ...rec.message, executeAt };
    q.delayed.push({ rec, at: executeAt });
    onDelayed(executeAt);
  } else {
    rec.state = "ready";
    if (q.limits === undefined || admit(q.limits, rec, now)) {
      q.ready[level(rec.message.priority)].push(rec, fresh);
    }
  }
  if (freed !== undefined) tryRelease(freed, now);
}

/**
 * A running record's lease ends (settled, recovered, removed): it leaves the running list and
 * its limit slot frees (see `endLease` for `release`).
 */
export function leaveRunning(
  q: QueueState,
  rec: Rec,
  now: number,
  release = true,
): LimitGroup | undefined {
  q.running.remove(rec);
  return rec.limit === undefined ? undefined : endLease(rec, now, release);
}

/** Removes a record in whatever state (acked, cancelled, replaced, removed schedule). */
export function remove(q: QueueState, rec: Rec, now: number): void {
  if (rec.state === "running") leaveRunning(q, rec, now);
  else if (rec.limit !== undefined) removeWaiting(rec, now);
  rec.state = "gone";
  if (q.records.get(rec.message.id) === rec) q.records.delete(rec.message.id);
}

/** Dead-letters `rec`, keeping the newest `maxDead` dead letters of the queue. */
export function bury(
  q: QueueState,
  rec: Rec,
  error: FailureInfo,
  now: number,
  maxDead: number,
): void {
  if (rec.state === "running") leaveRunning(q, rec, now);
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
      if (q.limits === undefined || admit(q.limits, top.rec, now)) {
        q.ready[level(top.rec.message.priority)].push(top.rec, false);
      }
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

/**
 * Messages of the in-memory broker replaced by a later enqueue of their id: periodic ones (their
 * definition, see the contract's `enqueue`) and debounced ones (see `OutgoingMessage.debounceMs`:
 * an enqueue of an id that waits replaces it; one of an id that runs is kept as its follow-up,
 * which replaces it at its settlement).
 */
import type { Message, OutgoingMessage } from "../broker.js";
import { remove } from "./queue-transitions.js";
import { newRec, type QueueState, type Rec } from "./records.js";
import { sameSchedule, stored } from "./stored-messages.js";

export interface ReplaceDeps {
  readonly nextSeq: () => number;
  readonly place: (q: QueueState, rec: Rec, executeAt: number | undefined, now: number) => void;
  readonly wake: () => void;
}

/** A periodic message enqueued again: its definition is replaced (see the contract). */
export function replacePeriodic(
  q: QueueState,
  rec: Rec,
  m: OutgoingMessage,
  now: number,
  deps: ReplaceDeps,
): void {
  const fresh = stored(m, rec.message.enqueuedAt);
  if (rec.state === "running") {
    // The run in progress keeps its delivery; its requeue keeps this (new) definition.
    const { executeAt, attempt, stalls } = rec.message;
    rec.message = { ...fresh, attempt, stalls };
    if (executeAt !== undefined) rec.message = { ...rec.message, executeAt };
    else delete (rec.message as { executeAt?: number }).executeAt;
    return;
  }
  // Waiting: the old record leaves its level or the delay heap lazily (marked gone). The same
  // schedule keeps its next run time; a new one starts from the new message's.
  const same = sameSchedule(rec.message.schedule, m.schedule);
  const at = same ? (rec.state === "delayed" ? rec.message.executeAt : undefined) : m.executeAt;
  remove(q, rec, now);
  const next = newRec(fresh, rec.seq);
  q.records.set(m.id, next);
  deps.place(q, next, at, now);
  deps.wake();
}

/** `m` enqueued while `rec` (same id) exists. */
export function debounce(
  q: QueueState,
  rec: Rec,
  m: OutgoingMessage,
  now: number,
  deps: ReplaceDeps,
): void {
  if (rec.state === "running") {
    rec.followUp = stored(m, now);
    return;
  }
  remove(q, rec, now);
  const replaced = newRec(stored(m, rec.message.enqueuedAt), rec.seq);
  q.records.set(m.id, replaced);
  deps.place(q, replaced, m.executeAt, now);
}

/** After `rec`'s settlement: its follow-up, if any, becomes the id's message (a new place). */
export function followUp(
  q: QueueState,
  rec: Rec,
  next: Message,
  now: number,
  deps: ReplaceDeps,
): void {
  if (rec.state !== "gone") remove(q, rec, now);
  const made = newRec(next, deps.nextSeq());
  q.records.set(next.id, made);
  deps.place(q, made, next.executeAt, now);
}

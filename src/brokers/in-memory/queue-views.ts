/** What the in-memory broker reports of a queue: its counts and its periodic messages. */
import type { QueueCounts, ScheduleInfo } from "../broker.js";
import type { QueueState } from "./records.js";

/** Counts by state; `limited` shows on queues with limits (or messages still held by some). */
export function countsOf(q: QueueState | undefined): QueueCounts {
  const counts = { ready: 0, delayed: 0, running: 0, dead: q?.dead.length ?? 0, limited: 0 };
  for (const rec of q?.records.values() ?? []) {
    if (rec.state !== "gone") counts[rec.state]++;
  }
  if (counts.limited > 0 || q?.limits !== undefined) return counts;
  const { limited: _limited, ...plain } = counts;
  return plain;
}

/** The periodic messages of a queue, by id (one held by a limit is ready). */
export function scheduleInfos(q: QueueState | undefined, queue: string): ScheduleInfo[] {
  const out: ScheduleInfo[] = [];
  for (const rec of q?.records.values() ?? []) {
    const { id, topic, schedule, executeAt, enqueuedAt } = rec.message;
    if (!schedule || rec.state === "gone") continue;
    out.push({
      id,
      queue,
      topic,
      schedule,
      nextRunAt: executeAt ?? enqueuedAt,
      state: rec.state === "limited" ? "ready" : rec.state,
    });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** What the in-memory broker reports of a queue: its counts and its periodic messages. */
import type { QueueCounts, ScheduleInfo } from "../broker.js";
import type { QueueState } from "./records.js";

/**
 * Counts by state; `limited` (held by a limit) and `limitedBy` (the same per topic) only when
 * some are.
 */
export function countsOf(q: QueueState | undefined): QueueCounts {
  const counts = { ready: 0, delayed: 0, running: 0, dead: q?.dead.length ?? 0 };
  const byTopic = new Map<string, number>();
  let limited = 0;
  for (const rec of q?.records.values() ?? []) {
    if (rec.state === "gone") continue;
    if (rec.state !== "limited") counts[rec.state]++;
    else {
      limited++;
      byTopic.set(rec.message.topic, (byTopic.get(rec.message.topic) ?? 0) + 1);
    }
  }
  if (limited === 0) return counts;
  const withLimited = { ...counts, limited, limitedBy: Object.fromEntries(byTopic) };
  return withLimited;
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

/**
 * Declaring, changing and resetting a queue's limits (see ./limit-groups.ts for the rules):
 * records parked under the old limits are placed again under the new ones (or made ready when
 * the topic has none any more), and leases held now count in the new groups.
 */
import { sameLimits } from "../../core/limits.js";
import type { TopicLimits } from "../broker.js";
import { admit, countHeld, levelOf, retire } from "./limit-groups.js";
import type { LimitGroup, QueueLimits, QueueState, TopicLimiter } from "./records.js";

/** What a queue's limits need from the broker (see `QueueLimits`). */
export interface LimitEnv {
  nextSeq(): number;
  released(): void;
  arm(group: LimitGroup, at: number): void;
}

function newLimiter(owner: QueueLimits, limits: TopicLimits): TopicLimiter {
  const c = limits.concurrency;
  const r = limits.rateLimit;
  const merged = c === undefined || r === undefined || c.key === r.key;
  return {
    limits,
    owner,
    primary: new Map(),
    primaryKey: c !== undefined ? c.key : r?.key,
    secondary: merged ? undefined : new Map(),
    secondaryKey: merged ? undefined : r.key,
  };
}

/**
 * Sets (or, with `undefined`, removes) the limits of `topic` on the queue. The caller wakes the
 * receivers (records may have become ready).
 */
export function setTopicLimits(
  q: QueueState,
  env: LimitEnv,
  topic: string,
  limits: TopicLimits | undefined,
  now: number,
): void {
  const old = q.limits?.topics.get(topic);
  if (old === undefined && limits === undefined) return;
  const ql = (q.limits ??= {
    topics: new Map(),
    ready: q.ready,
    nextSeq: env.nextSeq,
    released: env.released,
    arm: env.arm,
  });
  const parked = old ? retire(old) : [];
  const lim = limits ? newLimiter(ql, limits) : undefined;
  if (lim) ql.topics.set(topic, lim);
  else ql.topics.delete(topic);
  for (const rec of q.running) {
    if (rec.message.topic !== topic) continue;
    if (rec.limit) rec.limit.cg = undefined;
    if (lim) countHeld(lim, rec);
  }
  if (ql.topics.size === 0) q.limits = undefined;
  for (const rec of parked) {
    rec.state = "ready";
    if (q.limits === undefined || admit(q.limits, rec, now)) {
      q.ready[levelOf(rec.message.priority)].push(rec, false);
    }
  }
}

/** The queue was flushed: every group goes (its records went); the limits stay. */
export function resetLimits(q: QueueState): void {
  for (const [topic, lim] of q.limits?.topics ?? []) {
    retire(lim);
    q.limits!.topics.set(topic, newLimiter(lim.owner, lim.limits));
  }
}

/** The limits declared per queue and topic, kept also for a queue not declared yet. */
export class DeclaredLimits {
  readonly #byQueue = new Map<string, Map<string, TopicLimits>>();

  /** Records a declaration; false when it changes nothing. */
  set(queue: string, topic: string, limits: TopicLimits | undefined): boolean {
    const declared = this.#byQueue.get(queue);
    if (sameLimits(declared?.get(topic), limits)) return false;
    if (limits) {
      if (declared) declared.set(topic, limits);
      else this.#byQueue.set(queue, new Map([[topic, limits]]));
    } else {
      declared!.delete(topic);
      if (declared!.size === 0) this.#byQueue.delete(queue);
    }
    return true;
  }

  /** The queue was deleted: its limits go with it. */
  forget(queue: string): void {
    this.#byQueue.delete(queue);
  }

  of(queue: string): Iterable<[string, TopicLimits]> {
    return this.#byQueue.get(queue) ?? [];
  }
}

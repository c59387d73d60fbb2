/**
 * Limits across every consumer (`declareLimits`) in the in-memory broker: the rules of one
 * topic's groups. The Redis broker follows the same rules.
 *
 * - A limited message belongs to one or two groups (see `TopicLimiter`): `g1` (concurrency, or
 *   both limits when they share a key path, or the rate limit alone) and, when the rate limit has
 *   its own key path, `g2`. It passes `g1` first, then `g2`.
 * - Gate at lease time: a group lets a lease through while it holds fewer than `slots` leases
 *   and took fewer than `rate.limit` within the last `rate.perMs`. A message it blocks is parked
 *   in it (state `limited`), ordered by priority then enqueue order.
 * - A group keeps at most one message in the ready levels (`released`): one that arrives while
 *   the group has one there, or parked ones, or no capacity, is parked. When it is leased (or
 *   leaves) and the group has capacity, the group's first parked message goes back to ready with
 *   a fresh sequence number, behind every message ready now: groups with work take turns.
 * - A slot frees when a lease ends (settled, recovered, removed); a rate window allows again at
 *   the time its oldest start leaves it (a timer entry per blocked group, see `arm`). Idle groups
 *   are dropped (one with starts in its window when they have left it).
 * Nothing here scans keys: each step touches the groups of one message.
 */
import { Heap } from "../../core/heap.js";
import { keyOf, rateWindowMs } from "../../core/limits.js";
import type { LimitGroup, LimitSlot, QueueLimits, Rec, TopicLimiter } from "./records.js";

/** A priority outside 0..2 (from a hand-made message) counts as the nearest level. */
export function levelOf(priority: number): 0 | 1 | 2 {
  return priority <= 0 ? 0 : priority >= 2 ? 2 : 1;
}

/** The record's slot under `lim`, its groups made or found (a dropped group comes back). */
function slotOf(rec: Rec, lim: TopicLimiter): LimitSlot {
  let s = rec.limit;
  if (s === undefined) {
    const [g1, g2] = groupsOf(rec, lim);
    s = rec.limit = {
      limiter: lim,
      g1,
      g2,
      cg: undefined,
      parkedIn: undefined,
      order: rec.seq,
      staleEntry: false,
    };
  } else if (s.limiter !== lim) {
    [s.g1, s.g2] = groupsOf(rec, lim);
    s.limiter = lim;
  } else {
    if (s.g1.gone) s.g1 = revive(s.g1);
    if (s.g2?.gone) s.g2 = revive(s.g2);
  }
  return s;
}

function groupsOf(rec: Rec, lim: TopicLimiter): [LimitGroup, LimitGroup | undefined] {
  const payload = rec.message.payload;
  const k1 = lim.primaryKey === undefined ? "" : keyOf(payload, lim.primaryKey);
  const g1 = lim.primary.get(k1) ?? newGroup(lim, lim.primary, k1, true);
  if (lim.secondary === undefined) return [g1, undefined];
  const k2 = lim.secondaryKey === undefined ? "" : keyOf(payload, lim.secondaryKey);
  return [g1, lim.secondary.get(k2) ?? newGroup(lim, lim.secondary, k2, false)];
}

function newGroup(
  lim: TopicLimiter,
  map: Map<string, LimitGroup>,
  key: string,
  primary: boolean,
): LimitGroup {
  const { concurrency, rateLimit } = lim.limits;
  const merged = lim.secondary === undefined;
  const slots = primary ? concurrency?.limit : undefined;
  const rate = rateLimit && (!primary || merged) ? rateLimit : undefined;
  const group: LimitGroup = {
    limiter: lim,
    map,
    key,
    slots,
    // Counted over the window with its grace (see rateWindowMs), as on Redis.
    rate: rate ? { limit: rate.limit, perMs: rateWindowMs(rate.perMs) } : undefined,
    active: 0,
    starts: [],
    head: 0,
    parked: new Heap<Rec>(parkedFirst),
    parkedCount: 0,
    released: undefined,
    armedAt: Infinity,
    gone: false,
  };
  map.set(key, group);
  return group;
}

/**
 * A dropped (idle) group a record still names, under its topic's current limits: the live group
 * of its key, or the same one back in its map (idle groups hold nothing worth resetting).
 */
function revive(g: LimitGroup): LimitGroup {
  const live = g.map.get(g.key);
  if (live) return live;
  g.gone = false;
  g.armedAt = Infinity;
  g.map.set(g.key, g);
  return g;
}

function parkedFirst(a: Rec, b: Rec): boolean {
  const la = levelOf(a.message.priority);
  const lb = levelOf(b.message.priority);
  return la < lb || (la === lb && a.limit!.order < b.limit!.order);
}

/** Starts within the rate window as of `now` (older ones are dropped). */
function windowCount(g: LimitGroup, now: number): number {
  const cut = now - g.rate!.perMs;
  const starts = g.starts;
  let h = g.head;
  while (h < starts.length && starts[h]! <= cut) h++;
  if (h === starts.length) {
    starts.length = 0;
    h = 0;
  } else if (h > 32 && h * 2 > starts.length) {
    g.starts = starts.slice(h);
    h = 0;
  }
  g.head = h;
  return g.starts.length - h;
}

/** Which of the group's limits holds it now, if any. */
function blockedBy(g: LimitGroup, now: number): "concurrency" | "rateLimit" | undefined {
  if (g.slots !== undefined && g.active >= g.slots) return "concurrency";
  if (g.rate !== undefined && windowCount(g, now) >= g.rate.limit) return "rateLimit";
  return undefined;
}

/** The first live parked record (entries of removed or moved records are dropped). */
function peekParked(g: LimitGroup): Rec | undefined {
  for (let rec = g.parked.peek(); rec; rec = g.parked.peek()) {
    if (rec.state === "limited" && rec.limit?.parkedIn === g) return rec;
    g.parked.pop();
  }
  return undefined;
}

/** Whether `rec` may take the group's turn now; a worse-priority released one gives it up. */
function claim(g: LimitGroup, rec: Rec, now: number): boolean {
  if (blockedBy(g, now) !== undefined) return false;
  const head = g.parkedCount > 0 ? peekParked(g) : undefined;
  if (head !== undefined && !parkedFirst(rec, head)) return false;
  const r = g.released;
  if (r !== undefined && r !== rec) {
    const better = levelOf(rec.message.priority) < levelOf(r.message.priority);
    if (!better || r.state !== "ready") return false;
    r.limit!.staleEntry = true; // its entry in the ready level stays, skipped while parked
    parkFrom(r, g, now);
  }
  return true;
}

function park(rec: Rec, g: LimitGroup, now: number): void {
  rec.state = "limited";
  rec.limit!.parkedIn = g;
  g.parked.push(rec);
  g.parkedCount++;
  if (g.released === undefined) armIfRate(g, now);
}

/**
 * Parks `rec`, which held (or tried for) the turn of its groups, in `g`. Parked in its second
 * group it keeps the turn of its first (that group waits for it); parked in its first it frees
 * the second's.
 */
function parkFrom(rec: Rec, g: LimitGroup, now: number): void {
  const s = rec.limit!;
  if (g.released === rec) g.released = undefined;
  const freed = g === s.g1 && s.g2 !== undefined && s.g2.released === rec ? s.g2 : undefined;
  if (freed) freed.released = undefined;
  park(rec, g, now);
  if (freed) tryRelease(freed, now);
}

/** Arms the group's timer for when its oldest start leaves a full rate window. */
function armIfRate(g: LimitGroup, now: number): void {
  if (g.rate === undefined || windowCount(g, now) < g.rate.limit) return;
  arm(g, g.starts[g.head]! + g.rate.perMs);
}

function arm(g: LimitGroup, at: number): void {
  if (g.armedAt <= at) return;
  g.armedAt = at;
  g.limiter.owner.arm(g, at);
}

/**
 * A record becomes due (enqueued, requeued, promoted, replayed, recovered): true when it goes to
 * the ready levels as usual, false when it was parked in a group.
 */
export function admit(ql: QueueLimits, rec: Rec, now: number): boolean {
  const lim = ql.topics.get(rec.message.topic);
  if (lim === undefined) return true;
  const s = slotOf(rec, lim);
  if (!claim(s.g1, rec, now)) {
    park(rec, s.g1, now);
    return false;
  }
  s.g1.released = rec;
  if (s.g2 !== undefined) {
    if (!claim(s.g2, rec, now)) {
      park(rec, s.g2, now);
      return false;
    }
    s.g2.released = rec;
  }
  return true;
}

/**
 * The gate at lease time, for a ready record popped from its level: true when it may be leased
 * (the lease is then counted), false when a group holds it (it is parked there).
 */
export function leaseLimited(ql: QueueLimits, rec: Rec, now: number): boolean {
  const lim = ql.topics.get(rec.message.topic);
  if (lim === undefined) return true;
  const s = slotOf(rec, lim);
  if (blockedBy(s.g1, now) !== undefined) {
    parkFrom(rec, s.g1, now);
    return false;
  }
  if (s.g2 !== undefined && blockedBy(s.g2, now) !== undefined) {
    parkFrom(rec, s.g2, now);
    return false;
  }
  count(s.g1, rec, now);
  if (s.g2 !== undefined) count(s.g2, rec, now);
  tryRelease(s.g1, now);
  if (s.g2 !== undefined) tryRelease(s.g2, now);
  return true;
}

function count(g: LimitGroup, rec: Rec, now: number): void {
  if (g.released === rec) g.released = undefined;
  if (g.slots !== undefined) {
    g.active++;
    rec.limit!.cg = g;
  }
  if (g.rate !== undefined) g.starts.push(now);
}

/**
 * A lease ended (settled, recovered, removed): its slot frees. Returns the group without
 * releasing its next message when `release` is false (the record comes back first: placed
 * again, it takes its turn by its own place, then the caller releases).
 */
export function endLease(rec: Rec, now: number, release: boolean): LimitGroup | undefined {
  const g = rec.limit!.cg;
  if (g === undefined) return undefined;
  rec.limit!.cg = undefined;
  g.active--;
  if (release) tryRelease(g, now);
  return g;
}

/** A waiting record leaves (cancelled, replaced, removed): its group bookkeeping with it. */
export function removeWaiting(rec: Rec, now: number): void {
  const s = rec.limit;
  if (s === undefined) return;
  const parked = rec.state === "limited" ? s.parkedIn : undefined;
  rec.state = "gone";
  s.parkedIn = undefined;
  if (parked) parked.parkedCount--;
  for (const g of [s.g1, s.g2]) {
    if (g?.released !== rec) continue;
    g.released = undefined;
    tryRelease(g, now);
  }
  if (parked) tryRelease(parked, now);
}

/**
 * Releases the group's first parked record when the group has no record out and capacity: to
 * ready behind every message there, or parked in its second group when that one is busy.
 */
export function tryRelease(g: LimitGroup, now: number): void {
  if (g.gone) return;
  while (g.released === undefined && g.parkedCount > 0) {
    if (blockedBy(g, now) !== undefined) {
      armIfRate(g, now);
      return;
    }
    const rec = peekParked(g);
    if (rec === undefined) break;
    g.parked.pop();
    g.parkedCount--;
    const s = rec.limit!;
    s.parkedIn = undefined;
    g.released = rec;
    if (g === s.g1 && s.g2 !== undefined) {
      if (!claim(s.g2, rec, now)) {
        park(rec, s.g2, now);
        return;
      }
      s.g2.released = rec;
    }
    const owner = g.limiter.owner;
    rec.state = "ready";
    // A new place behind every ready message; one whose old entry may still be in the level
    // keeps its sequence (the level's heap orders by it).
    if (!s.staleEntry) rec.seq = owner.nextSeq();
    owner.ready[levelOf(rec.message.priority)].push(rec, !s.staleEntry);
    owner.released();
  }
  if (g.parkedCount === 0) g.parked.clear();
  dropIfIdle(g, now);
}

/** Drops an idle group; one whose window still holds starts is dropped when they have left. */
function dropIfIdle(g: LimitGroup, now: number): void {
  if (g.active > 0 || g.parkedCount > 0 || g.released !== undefined || g.gone) return;
  if (g.rate !== undefined && windowCount(g, now) > 0) {
    arm(g, g.starts[g.starts.length - 1]! + g.rate.perMs);
    return;
  }
  g.gone = true;
  g.armedAt = Infinity;
  if (g.map.get(g.key) === g) g.map.delete(g.key);
}

/** The group's timer entry came due (see `QueueLimits.arm`). */
export function tickGroup(g: LimitGroup, at: number, now: number): void {
  if (g.gone || g.armedAt !== at) return; // a later (or earlier) entry is the one in force
  g.armedAt = Infinity;
  tryRelease(g, now);
}

/** Which limit holds a parked record, for the admin view. */
export function heldBy(
  rec: Rec,
  now: number,
): { limit: "concurrency" | "rateLimit"; key: string; max: number } | undefined {
  const g = rec.state === "limited" ? rec.limit?.parkedIn : undefined;
  if (g === undefined) return undefined;
  const limit = blockedBy(g, now) ?? (g.slots !== undefined ? "concurrency" : "rateLimit");
  const max = limit === "concurrency" ? g.slots! : g.rate!.limit;
  return { limit, key: g.key, max };
}

/** A lease held when the topic's limits change counts in its group under the new ones. */
export function countHeld(lim: TopicLimiter, rec: Rec): void {
  const s = slotOf(rec, lim);
  if (s.g1.slots === undefined) return;
  s.g1.active++;
  s.cg = s.g1;
}

/**
 * Retires a topic's groups (its limits change, or its queue is flushed): they are dropped and
 * their parked records are returned in their order (priority, then enqueue order).
 */
export function retire(lim: TopicLimiter): Rec[] {
  const out: Rec[] = [];
  for (const map of [lim.primary, lim.secondary]) {
    for (const g of map?.values() ?? []) {
      for (let rec = peekParked(g); rec; rec = peekParked(g)) {
        g.parked.pop();
        rec.limit!.parkedIn = undefined;
        out.push(rec);
      }
      g.parkedCount = 0;
      g.released = undefined;
      g.gone = true;
    }
    map?.clear();
  }
  return out.sort((a, b) => (parkedFirst(a, b) ? -1 : parkedFirst(b, a) ? 1 : 0));
}

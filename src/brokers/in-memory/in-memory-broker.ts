import { QueueNotDeclaredError } from "../../core/errors.js";
import { Heap } from "../../core/heap.js";
import { InMemoryAdmin } from "./admin.js";
import { DelayTimer } from "./delay-timer.js";
import { debounce, followUp, replacePeriodic, type ReplaceDeps } from "./replacements.js";
import { LimitClock } from "./limit-clock.js";
import { leaseLimited } from "./limit-groups.js";
import { DeclaredLimits, resetLimits, setTopicLimits, type LimitEnv } from "./limit-setup.js";
import { bury, heldRecord, leaveRunning, place, promoteDue, remove } from "./queue-transitions.js";
import { ReceiveWaiters } from "./receive-waiters.js";
import {
  Level,
  MemoryDelivery,
  RunningList,
  newRec,
  type QueueState,
  type Rec,
} from "./records.js";
import type {
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  FailureInfo,
  KeepAlive,
  KeptResult,
  MessageBroker,
  OutgoingMessage,
  QueueCounts,
  ReceiveOptions,
  ScheduleInfo,
  Settlement,
  StoredResult,
  TopicLimits,
} from "../broker.js";
import type { BrokerAdmin, Cancelled } from "../admin.js";
import { countsOf, scheduleInfos } from "./queue-views.js";
import { ResultStore } from "./result-store.js";
import { UpdateStore } from "./update-store.js";
import { openDedupeWindow, sameSchedule, stalledError, stored } from "./stored-messages.js";

export interface InMemoryBrokerOptions {
  /** Lease expiries allowed before a message is dead-lettered as `STALLED`. @defaultValue 3 */
  readonly maxStalls?: number;
  /** Dead letters kept per queue; the oldest go first. @defaultValue 10_000 */
  readonly maxDeadLetters?: number;
  /** How often expired leases are looked for, in ms. @defaultValue 1000 */
  readonly leaseCheckIntervalMs?: number;
}

/**
 * The embedded broker: everything in this process's memory, nothing survives it. Honours the
 * whole broker contract (priorities, delays, leases, uniqueness, dead letters, results, dedupe,
 * limits across consumers: see ./limit-groups.ts).
 */
export class InMemoryMessageBroker implements MessageBroker {
  readonly #queues = new Map<string, QueueState>();
  readonly #waiters = new ReceiveWaiters();
  readonly #results = new ResultStore();
  readonly #updates = new UpdateStore();
  /** Heartbeat expiry (epoch ms) per consumer. */
  readonly #consumers = new Map<string, number>();
  readonly #maxStalls: number;
  readonly #maxDead: number;
  readonly #leaseCheckMs: number;
  #seq = 0;
  #tokens = 0;
  readonly #delays = new DelayTimer(() => this.#promoteAllDue());
  #leaseTimer: NodeJS.Timeout | undefined;
  readonly #limits = new DeclaredLimits();
  readonly #limitClock = new LimitClock();
  readonly #limitEnv: LimitEnv = {
    nextSeq: () => ++this.#seq,
    released: () => this.#waiters.wakeSoon(this.#takeFor),
    arm: (group, at) => this.#limitClock.arm(group, at),
  };
  // Made once: the hot paths (every enqueue, settlement and receive) pass these on.
  readonly #armDelay = (at: number): void => this.#delays.arm(at);
  readonly #replaceDeps: ReplaceDeps = {
    nextSeq: () => ++this.#seq,
    place: (q, rec, at, now) => this.#place(q, rec, at, now, false),
    wake: () => this.#wake(),
  };
  readonly #takeFor = (queues: readonly string[], options: ReceiveOptions, now: number) =>
    this.#take(queues, options, now);
  /** The whole contract (see `BrokerCapabilities`). */
  readonly capabilities = {
    delays: true,
    uniqueIds: true,
    results: true,
    schedules: true,
    globalRunningCount: true,
    dedupe: true,
    debounce: true,
    limits: true,
    progress: true,
  } as const;
  /** Job updates (see `MessageBroker.publishUpdate`), kept in ./update-store.ts. */
  readonly publishUpdate = this.#updates.publish;
  readonly readUpdate = this.#updates.read;
  readonly watchUpdates = this.#updates.watch;
  /** Admin operations (see `BrokerAdmin`). */
  readonly admin: BrokerAdmin = new InMemoryAdmin({
    queues: this.#queues,
    nextSeq: () => ++this.#seq,
    place: (q, rec, now) => this.#place(q, rec, undefined, now, false),
    wake: () => this.#wake(),
    counts: (queue) => this.counts(queue),
  });

  constructor(options: InMemoryBrokerOptions = {}) {
    this.#maxStalls = options.maxStalls ?? 3;
    this.#maxDead = options.maxDeadLetters ?? 10_000;
    this.#leaseCheckMs = options.leaseCheckIntervalMs ?? 1000;
  }

  async connect(): Promise<void> {
    if (this.#leaseTimer) return;
    this.#leaseTimer = setInterval(() => this.#recoverLeases(Date.now()), this.#leaseCheckMs);
    this.#leaseTimer.unref();
  }

  async disconnect(): Promise<void> {
    clearInterval(this.#leaseTimer);
    this.#leaseTimer = undefined;
    this.#delays.clear();
    this.#limitClock.clear();
    this.#waiters.finishAll();
    this.#results.close();
    this.#updates.close();
  }

  async declareQueue(queue: string): Promise<void> {
    if (this.#queues.has(queue)) return;
    const q: QueueState = {
      records: new Map(),
      running: new RunningList(),
      ready: [new Level(), new Level(), new Level()],
      delayed: new Heap((a, b) => a.at < b.at),
      dead: [],
      paused: false,
      dedupe: new Map(),
      limits: undefined,
    };
    this.#queues.set(queue, q);
    for (const [topic, limits] of this.#limits.of(queue))
      setTopicLimits(q, this.#limitEnv, topic, limits, Date.now());
  }

  async declareLimits(
    queue: string,
    topic: string,
    limits: TopicLimits | undefined,
  ): Promise<void> {
    const q = this.#queues.get(queue);
    if (!this.#limits.set(queue, topic, limits) || !q) return;
    setTopicLimits(q, this.#limitEnv, topic, limits, Date.now());
    this.#wake();
  }

  async flushQueue(queue: string): Promise<void> {
    const q = this.#queues.get(queue);
    if (!q) return;
    for (const rec of q.records.values()) rec.state = "gone";
    q.records.clear();
    q.running.clear();
    for (const level of q.ready) level.clear();
    q.delayed.clear();
    q.dead.length = 0;
    resetLimits(q);
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.flushQueue(queue);
    this.#queues.delete(queue);
    this.#limits.forget(queue);
  }

  async queueExists(queue: string): Promise<boolean> {
    return this.#queues.has(queue);
  }

  async enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    for (const m of messages)
      if (!this.#queues.has(m.queue)) throw new QueueNotDeclaredError(m.queue);
    const now = Date.now();
    const outcomes: EnqueueOutcome[] = [];
    for (const m of messages) {
      const q = this.#queues.get(m.queue)!;
      if (m.dedupeMs !== undefined && (q.dedupe.get(m.id) ?? 0) > now) {
        outcomes.push({ id: m.id, created: false });
        continue;
      }
      const existing = q.records.get(m.id);
      if (existing) {
        if (m.debounceMs !== undefined) debounce(q, existing, m, now, this.#replaceDeps);
        else if (m.schedule) replacePeriodic(q, existing, m, now, this.#replaceDeps);
        outcomes.push({ id: m.id, created: false });
        continue;
      }
      if (m.dedupeMs !== undefined) openDedupeWindow(q.dedupe, m.id, now + m.dedupeMs, now);
      const rec = newRec(stored(m, now), ++this.#seq);
      q.records.set(m.id, rec);
      this.#place(q, rec, m.executeAt, now, true);
      outcomes.push({ id: m.id, created: true });
    }
    this.#wake();
    return outcomes;
  }

  receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    const taken = this.#take(queues, options, Date.now());
    if (taken.length > 0 || options.signal?.aborted) return Promise.resolve(taken);
    return this.#waiters.wait(queues, options);
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    const now = Date.now();
    const applied = settlements.map((s) => this.#settleOne(s, now));
    this.#wake();
    return applied;
  }

  async renew(deliveries: readonly Delivery[], leaseMs: number): Promise<(boolean | Cancelled)[]> {
    const until = Date.now() + leaseMs;
    return deliveries.map((d) => {
      const rec = heldRecord(this.#queues, d);
      if (!rec) return false;
      rec.leaseUntil = until;
      return rec.cancel ? { cancelled: rec.cancel } : true;
    });
  }

  async heartbeat(consumer: string, _queues: readonly string[], ttlMs: number): Promise<void> {
    if (ttlMs > 0) this.#consumers.set(consumer, Date.now() + ttlMs);
    else if (this.#consumers.delete(consumer)) this.#recoverLeases(Date.now());
  }

  /** In one process, a consumer lives as long as the broker: its record never expires. */
  keepAlive(consumer: string): KeepAlive {
    this.#consumers.set(consumer, Infinity);
    return { stop: () => this.heartbeat(consumer, [], 0) };
  }

  async schedules(queue: string): Promise<ScheduleInfo[]> {
    return scheduleInfos(this.#queues.get(queue), queue);
  }

  async removeSchedule(queue: string, id: string): Promise<boolean> {
    const q = this.#queues.get(queue);
    const rec = q?.records.get(id);
    if (!q || !rec || !rec.message.schedule) return false;
    remove(q, rec, Date.now());
    return true;
  }

  async counts(queue: string): Promise<QueueCounts> {
    this.#recoverLeases(Date.now());
    return countsOf(this.#queues.get(queue));
  }

  async deadLetters(
    queue: string,
    options: { readonly limit?: number } = {},
  ): Promise<DeadLetter[]> {
    const dead = this.#queues.get(queue)?.dead ?? [];
    return dead.slice(0, options.limit ?? dead.length);
  }

  async storeResult(id: string, result: KeptResult): Promise<void> {
    this.#results.store(id, result.stored, result.ttlMs);
  }

  async readResult(id: string): Promise<StoredResult | undefined> {
    return this.#results.read(id);
  }

  async deleteResult(id: string): Promise<void> {
    this.#results.delete(id);
  }

  waitForResult(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    return this.#results.wait(id, options);
  }

  #take(queues: readonly string[], options: ReceiveOptions, now: number): Delivery[] {
    const out: Delivery[] = [];
    // Rotate the starting queue so that one busy queue cannot starve the others.
    const start = queues.length > 1 ? this.#seq % queues.length : 0;
    for (let k = 0; k < queues.length && out.length < options.max; k++) {
      const q = this.#queues.get(queues[(start + k) % queues.length]!);
      if (!q || q.paused) continue;
      promoteDue(q, now);
      for (let level = 0; level < 3 && out.length < options.max; level++) {
        const rec = q.ready[level]!.pop();
        if (!rec) continue;
        level--;
        if (rec.state !== "ready") continue;
        if (q.limits !== undefined && !leaseLimited(q.limits, rec, now)) continue;
        rec.state = "running";
        q.running.add(rec);
        rec.token = String(++this.#tokens);
        rec.leaseUntil = now + options.leaseMs;
        rec.holder = options.consumer;
        out.push(new MemoryDelivery(rec));
      }
    }
    return out;
  }

  #settleOne(s: Settlement, now: number): boolean {
    const rec = heldRecord(this.#queues, s.delivery);
    if (!rec) return false;
    const next = rec.followUp;
    if (next === undefined) return this.#apply(s, rec, now);
    rec.followUp = undefined;
    this.#apply(s, rec, now);
    followUp(this.#queues.get(rec.message.queue)!, rec, next, now, this.#replaceDeps);
    return true;
  }

  #apply(s: Settlement, rec: Rec, now: number): boolean {
    const q = this.#queues.get(rec.message.queue)!;
    if (s.result) this.#results.store(rec.message.id, s.result.stored, s.result.ttlMs);
    switch (s.kind) {
      case "ack":
        leaveRunning(q, rec, now);
        rec.state = "gone";
        q.records.delete(rec.message.id);
        return true;
      case "requeue":
        if (s.attempt !== rec.message.attempt || rec.message.stalls !== 0)
          rec.message = { ...rec.message, attempt: s.attempt, stalls: 0 };
        rec.lastError = s.lastError;
        this.#place(q, rec, s.executeAt, now, false);
        return true;
      case "dead":
        this.#bury(q, rec, s.error, now);
        return true;
    }
  }

  #place(
    q: QueueState,
    rec: Rec,
    executeAt: number | undefined,
    now: number,
    fresh: boolean,
  ): void {
    place(q, rec, executeAt, now, fresh, this.#armDelay);
  }

  #bury(q: QueueState, rec: Rec, error: FailureInfo, now: number): void {
    bury(q, rec, error, now, this.#maxDead);
  }

  /** The delay timer fired: what is due becomes ready, and the timer waits for the next one. */
  #promoteAllDue(): void {
    const now = Date.now();
    let next = Infinity;
    for (const q of this.#queues.values()) {
      promoteDue(q, now);
      next = Math.min(next, q.delayed.peek()?.at ?? Infinity);
    }
    if (next < Infinity) this.#delays.arm(next);
    this.#wake();
  }

  #recoverLeases(now: number): void {
    let recovered = false;
    for (const q of this.#queues.values()) {
      for (const rec of q.running) {
        if (rec.leaseUntil > now && this.#alive(rec.holder, now)) continue;
        const stalls = rec.message.stalls + 1;
        rec.message = { ...rec.message, stalls };
        if (stalls > this.#maxStalls) {
          this.#bury(q, rec, stalledError(stalls), now);
        } else {
          this.#place(q, rec, undefined, now, false);
          recovered = true;
        }
      }
    }
    if (recovered) this.#wake();
  }

  /** A lease whose consumer named itself lives only as long as that consumer's heartbeat. */
  #alive(holder: string | undefined, now: number): boolean {
    if (holder === undefined) return true;
    const until = this.#consumers.get(holder);
    return until !== undefined && until > now;
  }

  #wake(): void {
    this.#waiters.wake(this.#takeFor);
  }
}

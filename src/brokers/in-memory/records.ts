/** The in-memory broker's data structures: records, priority levels, the running list. */
import { Heap } from "../../core/heap.js";
import type { CancelMode } from "../admin.js";
import type { DeadLetter, Delivery, FailureInfo, Message, TopicLimits } from "../broker.js";

/** `limited`: due, but parked in a limit group until it releases it (see ./limit-groups.ts). */
export type State = "ready" | "delayed" | "running" | "limited" | "gone";

export interface Rec {
  message: Message;
  state: State;
  seq: number;
  token: string;
  leaseUntil: number;
  /** The consumer holding the lease (see `ReceiveOptions.consumer`), if it named itself. */
  holder: string | undefined;
  /** The error of the last failed attempt, while waiting for a retry. */
  lastError?: FailureInfo | undefined;
  /** Running and debounced again: the message that replaces it at its settlement. */
  followUp?: Message | undefined;
  /** Running and cancelled by an operator: the holder learns it at its next renewal. */
  cancel?: CancelMode | undefined;
  /** Links of the queue's running list (leased records), for lease recovery without hashing. */
  prev: Rec | undefined;
  next: Rec | undefined;
  /** Its limit bookkeeping, once its topic had limits (stays undefined for unlimited topics). */
  limit: LimitSlot | undefined;
}

export interface QueueState {
  readonly records: Map<string, Rec>;
  /** Records currently leased, for lease recovery without scanning every message. */
  readonly running: RunningList;
  readonly ready: readonly [Level, Level, Level];
  readonly delayed: Heap<{ rec: Rec; at: number }>;
  readonly dead: DeadLetter[];
  /** Receives skip a paused queue. */
  paused: boolean;
  /** Ids in a dedupe window: id -> epoch ms the window ends. */
  readonly dedupe: Map<string, number>;
  /** The limits of its topics; undefined while none has any (the unlimited hot path). */
  limits: QueueLimits | undefined;
}

/**
 * The limited topics of one queue and what their groups need from the broker (see
 * ./limit-groups.ts for the rules).
 */
export interface QueueLimits {
  readonly topics: Map<string, TopicLimiter>;
  /** The queue's ready levels, where released messages go. */
  readonly ready: readonly [Level, Level, Level];
  /** A fresh sequence number (a place behind every message ready now). */
  nextSeq(): number;
  /** A message was released to ready: waiting receivers should look again. */
  released(): void;
  /** Calls `tickGroup` for `group` at `at` (its rate window lets a start through, or ends). */
  arm(group: LimitGroup, at: number): void;
}

/** The limits of one topic and its groups by key value. */
export interface TopicLimiter {
  readonly limits: TopicLimits;
  readonly owner: QueueLimits;
  /**
   * The groups every message of the topic passes first: of the concurrency limit (carrying the
   * rate limit too when it has the same key path), else of the rate limit.
   */
  readonly primary: Map<string, LimitGroup>;
  readonly primaryKey: string | undefined;
  /** The rate limit's groups when its key path differs from the concurrency limit's. */
  readonly secondary: Map<string, LimitGroup> | undefined;
  readonly secondaryKey: string | undefined;
}

/** The messages of a topic with one key value, under one limit or both. */
export interface LimitGroup {
  readonly limiter: TopicLimiter;
  readonly map: Map<string, LimitGroup>;
  readonly key: string;
  /** Concurrency slots; undefined when the group carries no concurrency limit. */
  readonly slots: number | undefined;
  readonly rate: { readonly limit: number; readonly perMs: number } | undefined;
  /** Leases held (counted against `slots`). */
  active: number;
  /** Lease times still in the rate window, oldest first from `head`. */
  starts: number[];
  head: number;
  /** Parked records by priority then `LimitSlot.order` (entries of removed ones are skipped). */
  readonly parked: Heap<Rec>;
  parkedCount: number;
  /** The one record holding the group's turn: ready, or parked in its other group. */
  released: Rec | undefined;
  /** Due time of the group's timer entry in force (Infinity: none). */
  armedAt: number;
  /** Dropped from its map (idle, limits changed, queue flushed). */
  gone: boolean;
}

/** A limited record's groups, where it is parked and which group counts its lease. */
export interface LimitSlot {
  limiter: TopicLimiter;
  g1: LimitGroup;
  g2: LimitGroup | undefined;
  /** The group whose slot its lease holds. */
  cg: LimitGroup | undefined;
  parkedIn: LimitGroup | undefined;
  /** Its enqueue order among parked messages (the sequence it had when first limited). */
  readonly order: number;
  /**
   * It gave its group's turn to a message of higher priority while ready: its entry in the
   * ready level stays there (skipped while it is not ready), so its sequence never changes.
   */
  staleEntry: boolean;
}

export function newRec(message: Message, seq: number): Rec {
  return {
    message,
    state: "ready",
    seq,
    token: "",
    leaseUntil: 0,
    holder: undefined,
    prev: undefined,
    next: undefined,
    limit: undefined,
  };
}

/** Leased records of one queue: an intrusive doubly linked list (O(1) add and remove). */
export class RunningList {
  #head: Rec | undefined;

  add(rec: Rec): void {
    rec.prev = undefined;
    rec.next = this.#head;
    if (this.#head) this.#head.prev = rec;
    this.#head = rec;
  }

  /** Call only for a record in the list (state "running"). */
  remove(rec: Rec): void {
    if (rec.prev) rec.prev.next = rec.next;
    else this.#head = rec.next;
    if (rec.next) rec.next.prev = rec.prev;
    rec.prev = rec.next = undefined;
  }

  /** The records, safe against removing the current one while iterating. */
  *[Symbol.iterator](): Iterator<Rec> {
    for (let rec = this.#head; rec;) {
      const next = rec.next;
      yield rec;
      rec = next;
    }
  }

  clear(): void {
    this.#head = undefined;
  }
}

/**
 * Ready messages of one priority, in enqueue order. Fresh messages arrive in order and go to a
 * plain FIFO array (O(1)); messages coming back (rejects, retries, recovered leases) keep their
 * original place and go to a small heap ordered by sequence.
 */
export class Level {
  #fresh: Rec[] = [];
  #head = 0;
  readonly #back = new Heap<Rec>((a, b) => a.seq < b.seq);

  push(rec: Rec, fresh: boolean): void {
    if (fresh) this.#fresh.push(rec);
    else this.#back.push(rec);
  }

  pop(): Rec | undefined {
    const a = this.#fresh[this.#head];
    const b = this.#back.peek();
    if (b && (!a || b.seq < a.seq)) return this.#back.pop();
    if (!a) return undefined;
    this.#fresh[this.#head++] = undefined as never;
    if (this.#head > 1024 && this.#head * 2 > this.#fresh.length) {
      this.#fresh = this.#fresh.slice(this.#head);
      this.#head = 0;
    }
    return a;
  }

  clear(): void {
    this.#fresh = [];
    this.#head = 0;
    this.#back.clear();
  }
}

/** A delivery that remembers its record, so settling needs no lookup by id. */
export class MemoryDelivery implements Delivery {
  readonly message: Message;
  readonly token: string;
  readonly leaseUntil: number;
  /** @internal */
  readonly rec: Rec;

  constructor(rec: Rec) {
    this.message = rec.message;
    this.token = rec.token;
    this.leaseUntil = rec.leaseUntil;
    this.rec = rec;
  }
}

/** The in-memory broker's data structures: records, priority levels, the running list. */
import { Heap } from "../../core/heap.js";
import type { CancelMode } from "../admin.js";
import type { DeadLetter, Delivery, FailureInfo, Message } from "../broker.js";

export type State = "ready" | "delayed" | "running" | "gone";

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
  /** Running and cancelled by an operator: the holder learns it at its next renewal. */
  cancel?: CancelMode | undefined;
  /** Links of the queue's running list (leased records), for lease recovery without hashing. */
  prev: Rec | undefined;
  next: Rec | undefined;
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

import type {
  BrokerAdmin,
  CancelMode,
  CancelOutcome,
  JobView,
  MessageState,
  Page,
  PageOptions,
  QueueInfo,
} from "../admin.js";
import type { DeadLetter, QueueCounts } from "../broker.js";
import { QueueNotDeclaredError } from "../../core/errors.js";
import { heldBy } from "./limit-groups.js";
import { remove } from "./queue-transitions.js";
import { newRec, type QueueState, type Rec } from "./records.js";

/** What the admin needs from the in-memory broker's internals. */
export interface InMemoryInternals {
  readonly queues: Map<string, QueueState>;
  nextSeq(): number;
  /** Makes a record ready (a replayed dead letter). */
  place(q: QueueState, rec: Rec, now: number): void;
  wake(): void;
  counts(queue: string): Promise<QueueCounts>;
}

const DEFAULT_LIMIT = 50;

/** `BrokerAdmin` over the in-memory broker's records. */
export class InMemoryAdmin implements BrokerAdmin {
  readonly #m: InMemoryInternals;

  constructor(internals: InMemoryInternals) {
    this.#m = internals;
  }

  async queues(): Promise<QueueInfo[]> {
    const names = [...this.#m.queues.keys()].sort();
    return Promise.all(
      names.map(async (name) => ({
        name,
        paused: this.#m.queues.get(name)!.paused,
        counts: await this.#m.counts(name),
      })),
    );
  }

  async jobs(
    queue: string,
    state: MessageState,
    options: PageOptions = {},
  ): Promise<Page<JobView>> {
    const q = this.#queue(queue);
    const now = Date.now();
    const views =
      state === "dead"
        ? q.dead.map(deadView)
        : [...q.records.values()]
            .filter((rec) => stateOf(rec) === state)
            .sort(order(state))
            .map((rec) => liveView(rec, now));
    const start = options.cursor ? Number(options.cursor) : 0;
    const limit = Math.max(1, options.limit ?? DEFAULT_LIMIT);
    const items = views.slice(start, start + limit);
    return start + limit < views.length ? { items, next: String(start + limit) } : { items };
  }

  async job(queue: string, id: string): Promise<JobView | undefined> {
    const q = this.#m.queues.get(queue);
    const rec = q?.records.get(id);
    if (rec && rec.state !== "gone") return liveView(rec, Date.now());
    const dead = q?.dead.findLast((d) => d.message.id === id);
    return dead ? deadView(dead) : undefined;
  }

  async cancel(queue: string, id: string, mode: CancelMode = "dead"): Promise<CancelOutcome> {
    const q = this.#m.queues.get(queue);
    const rec = q?.records.get(id);
    if (!q || !rec || rec.state === "gone") return "not-found";
    if (rec.state === "running") {
      rec.cancel = mode;
      return "cancelling";
    }
    // Waiting: it leaves its level, the delay heap or its limit group lazily (marked gone).
    remove(q, rec, Date.now());
    return "removed";
  }

  async replay(queue: string, ids?: readonly string[]): Promise<number> {
    const q = this.#queue(queue);
    const wanted = ids ? new Set(ids) : undefined;
    const now = Date.now();
    let moved = 0;
    const kept: DeadLetter[] = [];
    for (const dead of q.dead) {
      const { id } = dead.message;
      if ((wanted && !wanted.has(id)) || q.records.has(id)) {
        kept.push(dead);
        continue;
      }
      const { executeAt: _executeAt, ...message } = dead.message;
      const rec = newRec({ ...message, attempt: 1, stalls: 0 }, this.#m.nextSeq());
      q.records.set(id, rec);
      this.#m.place(q, rec, now);
      moved++;
    }
    q.dead.splice(0, q.dead.length, ...kept);
    if (moved > 0) this.#m.wake();
    return moved;
  }

  async deleteDead(queue: string, ids?: readonly string[]): Promise<number> {
    const q = this.#queue(queue);
    const before = q.dead.length;
    if (!ids) q.dead.length = 0;
    else {
      const wanted = new Set(ids);
      q.dead.splice(0, q.dead.length, ...q.dead.filter((d) => !wanted.has(d.message.id)));
    }
    return before - q.dead.length;
  }

  async pause(queue: string): Promise<void> {
    this.#queue(queue).paused = true;
  }

  async resume(queue: string): Promise<void> {
    this.#queue(queue).paused = false;
    this.#m.wake();
  }

  #queue(queue: string): QueueState {
    const q = this.#m.queues.get(queue);
    if (!q) throw new QueueNotDeclaredError(queue);
    return q;
  }
}

function order(state: MessageState): (a: Rec, b: Rec) => number {
  if (state === "delayed") return (a, b) => (a.message.executeAt ?? 0) - (b.message.executeAt ?? 0);
  if (state === "running") return (a, b) => a.leaseUntil - b.leaseUntil;
  return (a, b) => a.message.priority - b.message.priority || a.seq - b.seq;
}

/** Where an operator sees a record: one held by a limit is ready (with `heldBy`). */
function stateOf(rec: Rec): MessageState | "gone" {
  return rec.state === "limited" ? "ready" : rec.state;
}

function liveView(rec: Rec, now: number): JobView {
  const state = stateOf(rec) as Exclude<MessageState, "dead">;
  const held = heldBy(rec, now);
  return {
    message: rec.message,
    state,
    ...(rec.lastError ? { error: rec.lastError } : {}),
    ...(state === "running" ? { leaseUntil: rec.leaseUntil } : {}),
    ...(state === "running" && rec.cancel ? { cancelling: true } : {}),
    ...(held ? { heldBy: held } : {}),
  };
}

function deadView(dead: DeadLetter): JobView {
  return { message: dead.message, state: "dead", error: dead.error, failedAt: dead.failedAt };
}

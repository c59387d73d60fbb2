/**
 * The broker of a test app: the in-memory broker, seen through a wrapper that
 *
 * - keeps a test clock: a message due later (deferred, retried after a backoff, the next run of
 *   a periodic job) waits here, not in the broker, until `advance()` moves the clock past it. The
 *   clock stands still otherwise, so nothing becomes due while a test thinks;
 * - knows which messages are outstanding (ready or running in a queue the worker serves), so
 *   that `settled()` and `idle()` resolve on the settlement that ends them, without polling;
 * - runs jobs inline: an enqueue returns once the messages it added have run (or are waiting for
 *   the test clock); or else gates `receive`, so that the worker receives only during `idle()`;
 * - records every message enqueued, for assertions.
 *
 * Everything else (leases, results, dead letters, priorities) is the in-memory broker's own.
 */
import type {
  Delivery,
  EnqueueOutcome,
  MessageBroker,
  OutgoingMessage,
  QueueCounts,
  ReceiveOptions,
  Schedule,
  Settlement,
} from "../brokers/broker.js";
import { nextRunAt } from "../core/schedule.js";

/** A message the test enqueued, as recorded by the test app. */
export interface EnqueuedMessage {
  readonly id: string;
  readonly queue: string;
  /** The actor it runs. */
  readonly actor: string;
  /** The arguments as JSON text, or `undefined` for none. */
  readonly payload: string | undefined;
  readonly message: OutgoingMessage;
}

/** A message due later, held until the test clock reaches `dueAt`. */
type Held =
  | { readonly dueAt: number; readonly key: string; readonly fresh: OutgoingMessage }
  | { readonly dueAt: number; readonly key: string; readonly requeue: RequeueSettlement };

type RequeueSettlement = Extract<Settlement, { kind: "requeue" }>;

const keyOf = (queue: string, id: string): string => `${queue}\u0000${id}`;

/** See the file comment. `broker` is the wrapped broker to hand to a `Connection`. */
export class TestBroker {
  readonly broker: MessageBroker;
  readonly enqueued: EnqueuedMessage[] = [];
  readonly #inner: MessageBroker;
  #served: ReadonlySet<string> = new Set();
  readonly #outstanding = new Set<string>();
  readonly #onChange = new Set<() => void>();
  #held: Held[] = [];
  /** The test-clock time of each message's last release, the anchor of interval schedules. */
  readonly #lastRun = new Map<string, number>();
  #now: number;
  readonly #inline: boolean;
  #gateOpen: boolean;
  #gate = new AbortController();

  /**
   * @param inline whether jobs run as they are enqueued (else only during `idle()`).
   */
  constructor(inner: MessageBroker, inline: boolean, now: number) {
    this.#inner = inner;
    this.#inline = inline;
    this.#gateOpen = inline;
    this.#now = now;
    const overrides: Partial<MessageBroker> = {
      enqueue: (messages) => this.#enqueue(messages),
      settle: (settlements) => this.#settle(settlements),
      receive: (queues, options) => this.#receive(queues, options),
      counts: (queue) => this.#counts(queue),
    };
    // Every other method, including those the contract gains later, goes to the broker itself.
    this.broker = new Proxy(inner, {
      get(target, property) {
        if (Object.hasOwn(overrides, property)) return overrides[property as keyof MessageBroker];
        // The broker itself as `this`, for getters and methods that read its private fields.
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  /**
   * The queues a running worker receives from: only their messages are waited for. Nothing is
   * served before the worker starts or after it stops, so that no wait outlives it.
   */
  serve(queues: ReadonlySet<string>): void {
    this.#served = queues;
    if (queues.size === 0) this.#outstanding.clear();
    this.#changed();
  }

  /** The test clock, in epoch milliseconds. */
  get now(): number {
    return this.#now;
  }

  /** Resolves once none of `keys` is outstanding any more. */
  async settled(keys: readonly string[]): Promise<void> {
    await this.#until(() => keys.every((k) => !this.#outstanding.has(k)));
  }

  /**
   * Runs what is due by the test clock until nothing is ready or running any more in the served
   * queues. With `open` false, the worker receives only during this call.
   */
  async idle(): Promise<void> {
    const wasOpen = this.#gateOpen;
    this.#setGate(true);
    try {
      do {
        await this.#releaseDue();
        await this.#until(() => this.#outstanding.size === 0);
      } while (this.#held.some((h) => h.dueAt <= this.#now));
    } finally {
      if (!wasOpen) this.#setGate(false);
    }
  }

  /** Moves the test clock by `ms`, running everything that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await this.idle();
    for (;;) {
      const next = Math.min(...this.#held.map((h) => h.dueAt));
      if (!(next <= target)) break;
      this.#now = Math.max(this.#now, next);
      await this.idle();
    }
    this.#now = target;
    await this.idle();
  }

  /** Wakes whoever waits on `#until`: outstanding messages or the gate changed. */
  #changed(): void {
    for (const check of [...this.#onChange]) check();
  }

  #until(condition: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!condition()) return;
        this.#onChange.delete(check);
        resolve();
      };
      this.#onChange.add(check);
      check();
    });
  }

  #setGate(open: boolean): void {
    if (open === this.#gateOpen) return;
    this.#gateOpen = open;
    if (!open) {
      // A receive waiting in the broker would take what is enqueued next: end it.
      this.#gate.abort();
      this.#gate = new AbortController();
    }
    this.#changed();
  }

  /**
   * When a message due at `executeAt` (real time, as its producer or worker computed it) is due
   * on the test clock, or `undefined` when it is due now. The runs of a periodic job follow its
   * schedule on the test clock (a job every minute runs 60 times an hour, cron in UTC); other
   * delays keep their length, give or take the millisecond that passed since they were computed.
   */
  #dueAt(
    executeAt: number | undefined,
    realNow: number,
    periodic?: { readonly schedule: Schedule; readonly key: string },
  ): number | undefined {
    if (executeAt === undefined || executeAt <= realNow) return undefined;
    if (periodic) {
      const anchor = this.#lastRun.get(periodic.key) ?? this.#now;
      const next = nextRunAt(periodic.schedule, this.#now, anchor);
      if (next !== undefined) return next;
    }
    return this.#now + (executeAt - realNow);
  }

  async #enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    const realNow = Date.now();
    const outcomes: (EnqueueOutcome | undefined)[] = [];
    const now: { message: OutgoingMessage; index: number; key: string; added: boolean }[] = [];
    for (const [index, message] of messages.entries()) {
      const key = keyOf(message.queue, message.id);
      const dueAt = this.#dueAt(
        message.executeAt,
        realNow,
        message.schedule && { schedule: message.schedule, key },
      );
      const heldAt = this.#held.findIndex((h) => h.key === key);
      if (heldAt >= 0 || dueAt !== undefined) {
        // Due later, or already waiting here: the broker would keep one message per id.
        if (heldAt < 0) this.#held.push({ dueAt: dueAt!, key, fresh: message });
        outcomes[index] = { id: message.id, created: heldAt < 0 };
        continue;
      }
      const added = this.#served.has(message.queue) && !this.#outstanding.has(key);
      if (added) this.#outstanding.add(key);
      now.push({ message, index, key, added });
    }
    if (now.length > 0) {
      let sent: EnqueueOutcome[];
      try {
        sent = await this.#inner.enqueue(now.map((n) => n.message));
      } catch (error) {
        for (const n of now) if (n.added) this.#outstanding.delete(n.key);
        this.#changed();
        throw error;
      }
      sent.forEach((outcome, i) => {
        const n = now[i]!;
        outcomes[n.index] = outcome;
        if (!outcome.created && n.added) this.#outstanding.delete(n.key);
      });
      this.#changed();
    }
    const result = outcomes.map((o) => o!);
    this.#record(messages, result);
    // Inline: the enqueue returns once what it added has run (or waits for the test clock).
    if (this.#inline) await this.settled(now.filter((n) => n.added).map((n) => n.key));
    return result;
  }

  #record(messages: readonly OutgoingMessage[], result: readonly EnqueueOutcome[]): void {
    result.forEach((outcome, i) => {
      const message = messages[i]!;
      if (!outcome.created) return;
      this.enqueued.push({
        id: outcome.id,
        queue: message.queue,
        actor: message.topic,
        payload: message.payload,
        message,
      });
    });
  }

  async #settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    const realNow = Date.now();
    const applied: boolean[] = [];
    const forward: { settlement: Settlement; index: number }[] = [];
    for (const [index, settlement] of settlements.entries()) {
      const { queue, id, schedule } = settlement.delivery.message;
      const key = keyOf(queue, id);
      // A periodic job's next run starts over at attempt 1; a retry counts up.
      const nextRun = settlement.kind === "requeue" && settlement.attempt === 1 && schedule;
      const dueAt =
        settlement.kind === "requeue"
          ? this.#dueAt(settlement.executeAt, realNow, nextRun ? { schedule, key } : undefined)
          : undefined;
      if (settlement.kind === "requeue" && dueAt !== undefined) {
        // The run is over; the next one waits for the test clock. The broker keeps the message
        // leased to the worker meanwhile (the test worker's lease lasts a day).
        this.#held.push({ dueAt, key, requeue: settlement });
        this.#outstanding.delete(key);
        applied[index] = true;
      } else {
        forward.push({ settlement, index });
      }
    }
    if (forward.length > 0) {
      const flags = await this.#inner.settle(forward.map((f) => f.settlement));
      flags.forEach((ok, i) => {
        const { settlement, index } = forward[i]!;
        applied[index] = ok;
        const back = settlement.kind === "requeue";
        const { queue, id } = settlement.delivery.message;
        if (ok && !back) this.#outstanding.delete(keyOf(queue, id));
      });
    }
    this.#changed();
    return applied;
  }

  /** Hands what is due by the test clock to the broker, earliest first. */
  async #releaseDue(): Promise<void> {
    const due = this.#held.filter((h) => h.dueAt <= this.#now).sort((a, b) => a.dueAt - b.dueAt);
    if (due.length === 0) return;
    this.#held = this.#held.filter((h) => !due.includes(h));
    for (const held of due) {
      this.#lastRun.set(held.key, held.dueAt);
      const served = this.#served.has(held.key.slice(0, held.key.indexOf("\u0000")));
      if (served) this.#outstanding.add(held.key);
      let taken: boolean;
      if ("fresh" in held) {
        const { executeAt: _, ...message } = held.fresh;
        [{ created: taken }] = (await this.#inner.enqueue([message])) as [EnqueueOutcome];
      } else {
        const { executeAt: _, ...settlement } = held.requeue;
        [taken] = (await this.#inner.settle([settlement])) as [boolean];
      }
      if (!taken) this.#outstanding.delete(held.key);
    }
    this.#changed();
  }

  async #receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    for (;;) {
      if (options.signal?.aborted) return [];
      if (!this.#gateOpen) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            this.#onChange.delete(check);
            options.signal?.removeEventListener("abort", done);
            resolve();
          };
          const check = (): void => void (this.#gateOpen && done());
          this.#onChange.add(check);
          options.signal?.addEventListener("abort", done, { once: true });
        });
        continue;
      }
      const gate = this.#gate.signal;
      // Ends when the worker stops receiving or the gate closes (AbortSignal.any needs Node 20.3).
      const either = new AbortController();
      const end = (): void => either.abort();
      options.signal?.addEventListener("abort", end, { once: true });
      gate.addEventListener("abort", end, { once: true });
      let deliveries: Delivery[];
      try {
        deliveries = await this.#inner.receive(queues, { ...options, signal: either.signal });
      } finally {
        options.signal?.removeEventListener("abort", end);
        gate.removeEventListener("abort", end);
      }
      if (deliveries.length > 0 || !gate.aborted) return deliveries;
    }
  }

  async #counts(queue: string): Promise<QueueCounts> {
    const counts = await this.#inner.counts(queue);
    let delayed = counts.delayed;
    let running = counts.running;
    for (const held of this.#held) {
      if (!held.key.startsWith(`${queue}\u0000`)) continue;
      delayed++;
      if ("requeue" in held) running--;
    }
    return { ...counts, delayed, running };
  }
}

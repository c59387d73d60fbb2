import { randomBytes } from "node:crypto";
import type { Logger } from "../../core/logger.js";
import type { Delivery, ReceiveOptions, Settlement } from "../broker.js";
import { sleep, type BlockingPool } from "./blocking-pool.js";
import { chunkBySlot, type RedisClient } from "./cluster.js";
import type { KeySpace } from "./connection.js";
import { readTaken, receiveCall } from "./operations.js";
import type { SpentMemos } from "./spent-memos.js";
import { brokerError } from "./redis-errors.js";
import { runResending } from "./resend.js";
import { scriptCall, type CallOutcome, type ScriptCall, type ScriptRunner } from "./scripts.js";
import { mapped } from "../../core/arrays.js";

/** Expired leases and due delayed messages handled per queue per receive round. */
export const HOUSEKEEPING_LIMIT = 1000;
/** Queues looked at by one peek.lua call. */
const PEEK_CHUNK = 1000;
/** A failing queue is skipped for 1 s, 2 s, 4 s... up to this long. */
const MAX_BACKOFF_MS = 30_000;

export interface ReceiverSettings {
  readonly client: RedisClient;
  readonly keys: KeySpace;
  readonly scripts: ScriptRunner;
  readonly logger: Logger;
  readonly maxStalls: number;
  readonly maxDead: number;
  readonly maxBlockMs: number;
  readonly blocking: Pick<BlockingPool, "wait" | "polling">;
  /** Dead-letters what the client could not decode. */
  readonly settle: (settlements: readonly Settlement[]) => Promise<boolean[]>;
  /** Memos of answered calls, deleted by the next call on their queue. */
  readonly spent: SpentMemos;
}

interface Round {
  readonly deliveries: Delivery[];
  /** Redis time of the round, epoch ms. */
  now: number;
  /** Earliest time (Redis time) something changes by itself, or -1 (see receive.lua). */
  nextAt: number;
}

interface Failing {
  until: number;
  failures: number;
}

/**
 * The receive side of the Redis broker.
 *
 * One round looks at every queue in one round trip: on one queue, its receive script; on many,
 * a pipelined probe (a few reads per queue) picks the queues with something to do, and one
 * pipeline of receive scripts serves them, `max` shared out in rotation so that no queue starves
 * the others. A wake-up from a queue's notify list goes to that queue first.
 *
 * A queue whose script fails (a key of the wrong type, say) is isolated: the other queues'
 * deliveries of the round are returned as usual, the error is logged with the queue's name, and
 * the queue is skipped for a while (1 s, doubling up to 30 s) before it is tried again.
 */
export class Receiver {
  readonly #s: ReceiverSettings;
  readonly #nonce = randomBytes(6).toString("base64url");
  #calls = 0;
  #rotation = 0;
  readonly #failing = new Map<string, Failing>();
  #hint: string | undefined;
  #saidBlpopRefused = false;

  constructor(settings: ReceiverSettings) {
    this.#s = settings;
  }

  async receive(
    queues: readonly string[],
    options: ReceiveOptions,
    closing: AbortSignal,
  ): Promise<Delivery[]> {
    const { signal } = options;
    if (signal?.aborted || closing.aborted || queues.length === 0 || options.max <= 0) return [];
    // Two signals checked side by side: AbortSignal.any per call costs more than the receive.
    const signals = signal ? [signal, closing] : [closing];
    const stopped = (): boolean => closing.aborted || signal?.aborted === true;
    for (const q of queues) this.#s.keys.queue(q); // validates the names in the caller's stack
    for (;;) {
      let round: Round;
      try {
        round = await this.#round(queues, options);
      } catch (error) {
        if (stopped()) return [];
        throw brokerError("receive", error);
      }
      if (round.deliveries.length > 0 || stopped()) return round.deliveries;
      // A full round over thousands of queues costs Redis real work: idle rounds over many
      // queues come less often (the notify lists still wake the wait at once).
      const cap = this.#s.maxBlockMs * Math.min(10, Math.ceil(queues.length / 1000));
      const wait = round.nextAt < 0 ? cap : Math.min(cap, round.nextAt - round.now);
      if (wait > 0) {
        const active = this.#active(queues, Date.now());
        if (active.length === 0) {
          await sleep(wait, signals);
          continue;
        }
        const notify = active.map((q) => this.#s.keys.queue(q).notify);
        if (active.length === 1 && !this.#s.blocking.polling) {
          const taken = await this.#waitAndTake(active[0]!, notify, wait, signals, options);
          if (taken.length > 0) return taken;
        } else {
          const outcome = await this.#s.blocking.wait(notify, wait, signals);
          if (outcome.woke !== undefined) this.#hint = this.#queueOf(outcome.woke, active);
          if (outcome.failed) await this.#blpopRefused(active, outcome.failed);
        }
      }
      if (stopped()) return [];
    }
  }

  /**
   * The wait of a consumer of one queue: its receive call travels behind the BLPOP on the
   * blocking connection, so a wake-up leases and returns messages in one round trip. That call
   * does no housekeeping (limit 0): recovering expired leases stays with the rounds on the main
   * connection, which go out behind this worker's pending settlements. When the wait ends empty
   * (timed out, woken for nothing, or the call failed), the caller's next round looks again.
   */
  async #waitAndTake(
    queue: string,
    notify: readonly string[],
    wait: number,
    signals: readonly AbortSignal[],
    options: ReceiveOptions,
  ): Promise<Delivery[]> {
    const { call, tokenPrefix } = this.#call(queue, options.max, options, 0);
    const script = this.#s.scripts.source(call.script);
    const outcome = await this.#s.blocking.wait(notify, wait, signals, {
      follow: (conn) => conn.evalsha(script.sha, call.keys.length, ...call.keys, ...call.args),
    });
    if (outcome.failed) await this.#blpopRefused([queue], outcome.failed);
    this.#answered(queue, call, outcome.followed);
    if (!outcome.followed?.ok) return [];
    const round = await this.#read(
      [[queue, options.max]],
      [tokenPrefix],
      [outcome.followed],
      options,
    );
    return round.deliveries;
  }

  async #round(queues: readonly string[], options: ReceiveOptions): Promise<Round> {
    const now = Date.now();
    const active = this.#active(queues, now);
    if (active.length === 0) {
      let until = Infinity;
      for (const f of this.#failing.values()) until = Math.min(until, f.until);
      return { deliveries: [], now, nextAt: until };
    }
    const hint = this.#hint;
    this.#hint = undefined;
    if (active.length === 1) return this.#take([[active[0]!, options.max]], options);
    if (hint !== undefined && active.includes(hint)) {
      const first = await this.#take([[hint, options.max]], options);
      if (first.deliveries.length > 0) return first;
    }
    const plan = await this.#probe(active, options.max);
    if (plan.calls.length === 0) return { deliveries: [], now: plan.now, nextAt: plan.nextAt };
    const round = await this.#take(plan.calls, options);
    // Housekeeping may have made messages ready: look again at once rather than block.
    if (round.deliveries.length === 0 && plan.calls.some(([, max]) => max === 0))
      round.nextAt = round.now;
    else if (plan.nextAt >= 0 && (round.nextAt < 0 || plan.nextAt < round.nextAt))
      round.nextAt = plan.nextAt;
    return round;
  }

  /**
   * Looks at every queue (peek.lua over chunks of PEEK_CHUNK queues, one pipeline) and plans the
   * receive calls: queues with ready messages share `max` in rotation order, queues with only
   * housekeeping due get a call that leases nothing. A chunk that fails (a key of the wrong type)
   * is looked at again queue by queue, to isolate the culprit.
   */
  async #probe(
    queues: readonly string[],
    max: number,
  ): Promise<{ calls: [string, number][]; now: number; nextAt: number }> {
    const start = this.#rotation++ % queues.length;
    const order = queues.map((_, i) => queues[(start + i) % queues.length]!);
    const chunks = chunkBySlot(
      this.#s.client,
      order,
      PEEK_CHUNK,
      (q) => this.#s.keys.queue(q).ready,
    );
    const peeked: Peeked = { found: [], now: Date.now(), nextAt: -1 };
    const outcomes = await this.#s.scripts.runMany(
      this.#s.client,
      chunks.map((c) => this.#peekCall(c)),
    );
    for (const [c, outcome] of outcomes.entries()) {
      if (outcome.ok) {
        readPeek(outcome.value as number[], chunks[c]!, peeked);
      } else if (outcome.error.name !== "ReplyError") {
        throw outcome.error;
      } else {
        const one = await this.#s.scripts.runMany(
          this.#s.client,
          chunks[c]!.map((q) => this.#peekCall([q])),
        );
        one.forEach((o, i) => {
          if (o.ok) readPeek(o.value as number[], [chunks[c]![i]!], peeked);
          else this.#fail(chunks[c]![i]!, o.error);
        });
      }
    }
    const calls: [string, number][] = [];
    let remaining = max;
    for (const { queue, ready, due } of peeked.found) {
      if (ready > 0 && remaining > 0) {
        const share = Math.min(remaining, ready);
        remaining -= share;
        calls.push([queue, share]);
      } else if (due) {
        calls.push([queue, 0]);
      }
    }
    return { calls, now: peeked.now, nextAt: peeked.nextAt };
  }

  #peekCall(queues: readonly string[]): ScriptCall {
    const keys: string[] = [];
    for (const q of queues) {
      const k = this.#s.keys.queue(q);
      keys.push(k.ready, k.delayed, k.running, k.consumers, k.clock, ...k.fresh);
    }
    return scriptCall("peek", keys, []);
  }

  /** One receive.lua call and its token prefix (the call's id). */
  #call(queue: string, max: number, options: ReceiveOptions, limit: number) {
    const tokenPrefix = `${this.#nonce}.${(this.#calls++).toString(36)}.`;
    const call = receiveCall(this.#s.keys.queue(queue), {
      max,
      leaseMs: options.leaseMs,
      tokenPrefix,
      maxStalls: this.#s.maxStalls,
      maxDead: this.#s.maxDead,
      limit,
      consumer: options.consumer ?? "",
      spent: this.#s.spent.take(queue),
    });
    return { call, tokenPrefix };
  }

  /** A receive call was answered (with its leases or Redis's own error): its memo is spent. */
  #answered(queue: string, call: ScriptCall, outcome: CallOutcome | undefined): void {
    if (!outcome || (!outcome.ok && outcome.error.name !== "ReplyError")) return;
    if (call.memo !== undefined) this.#s.spent.add(queue, call.memo);
  }

  /** Runs the receive scripts of the planned queues in one pipeline. */
  async #take(plan: readonly [string, number][], options: ReceiveOptions): Promise<Round> {
    const prefixes: string[] = [];
    const calls: ScriptCall[] = mapped(plan, ([queue, max]) => {
      const { call, tokenPrefix } = this.#call(queue, max, options, HOUSEKEEPING_LIMIT);
      prefixes.push(tokenPrefix);
      return call;
    });
    const outcomes = await runResending(this.#s.scripts, this.#s.client, calls);
    calls.forEach((call, i) => this.#answered(plan[i]![0], call, outcomes[i]));
    return this.#read(plan, prefixes, outcomes, options);
  }

  /** Reads the outcomes of receive calls: deliveries, failing queues, malformed messages. */
  async #read(
    plan: readonly (readonly [string, number])[],
    prefixes: readonly string[],
    outcomes: readonly CallOutcome[],
    options: ReceiveOptions,
  ): Promise<Round> {
    const consumer = options.consumer ?? "";
    const round: Round = { deliveries: [], now: Date.now(), nextAt: -1 };
    const malformed: Settlement[] = [];
    let failures = 0;
    outcomes.forEach((outcome, i) => {
      const queue = plan[i]![0];
      if (!outcome.ok) {
        failures++;
        this.#fail(queue, outcome.error);
        return;
      }
      this.#recovered(queue);
      const taken = readTaken(outcome.value as (string | number)[], queue, prefixes[i]!, consumer);
      round.deliveries.push(...taken.deliveries);
      malformed.push(...taken.malformed);
      round.now = taken.now;
      if (taken.nextAt >= 0 && (round.nextAt < 0 || taken.nextAt < round.nextAt))
        round.nextAt = taken.nextAt;
      if (taken.evicted > 0) {
        this.#s.logger.error(
          `repid redis: ${taken.evicted} message(s) of queue "${queue}" had no stored body (evicted? use maxmemory-policy noeviction): dead-lettered with code EVICTED`,
          { queue, count: taken.evicted },
        );
      }
    });
    if (
      failures === outcomes.length &&
      failures > 0 &&
      plan.length === 1 &&
      !this.#isQueueError(outcomes[0])
    )
      throw (outcomes[0] as { error: Error }).error;
    if (malformed.length > 0) {
      this.#s.logger.warn(`repid redis: dead-lettering ${malformed.length} malformed message(s)`, {
        count: malformed.length,
      });
      await this.#s.settle(malformed);
      if (round.deliveries.length === 0) round.nextAt = round.now;
    }
    return round;
  }

  #isQueueError(outcome: unknown): boolean {
    const error = (outcome as { error?: Error }).error;
    return error?.name === "ReplyError";
  }

  #active(queues: readonly string[], now: number): string[] {
    if (this.#failing.size === 0) return queues as string[];
    return queues.filter((q) => (this.#failing.get(q)?.until ?? 0) <= now);
  }

  #fail(queue: string, error: Error): void {
    const f = this.#failing.get(queue) ?? { until: 0, failures: 0 };
    f.failures++;
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (f.failures - 1));
    f.until = Date.now() + backoff;
    this.#failing.set(queue, f);
    this.#s.logger.error(
      `repid redis: receiving from queue "${queue}" failed (${error.message}); the other queues go on, this one is tried again in ${backoff} ms`,
      { queue, error: error.message, failures: f.failures },
    );
  }

  #recovered(queue: string): void {
    if (this.#failing.delete(queue))
      this.#s.logger.info(`repid redis: queue "${queue}" answers again`, { queue });
  }

  #queueOf(notifyKey: string, queues: readonly string[]): string | undefined {
    return queues.find((q) => this.#s.keys.queue(q).notify === notifyKey);
  }

  /** BLPOP refused (a notify list of the wrong type): find the queue(s) and isolate them. */
  async #blpopRefused(queues: readonly string[], error: Error): Promise<void> {
    // One TYPE per queue, all sent at once (a cluster refuses a pipeline across slots).
    const types = await Promise.all(
      queues.map((q) =>
        this.#s.client.type(this.#s.keys.queue(q).notify).then(
          (type) => [null, type] as const,
          () => [null, "none"] as const,
        ),
      ),
    );
    let found = false;
    types.forEach(([, type], i) => {
      if (type !== "none" && type !== "list") {
        found = true;
        this.#fail(queues[i]!, error);
      }
    });
    if (!found && !this.#saidBlpopRefused) {
      this.#saidBlpopRefused = true;
      this.#s.logger.error(`repid redis: blocking wait refused (${error.message})`, {
        error: error.message,
      });
    }
  }
}

interface Peeked {
  readonly found: { queue: string; ready: number; due: boolean }[];
  now: number;
  nextAt: number;
}

/** Adds one peek.lua reply (see the script) over `queues` to `into`. */
function readPeek(reply: readonly number[], queues: readonly string[], into: Peeked): void {
  into.now = Number(reply[0]);
  const nextAt = Number(reply[1]);
  if (nextAt >= 0 && (into.nextAt < 0 || nextAt < into.nextAt)) into.nextAt = nextAt;
  for (let i = 2; i + 2 < reply.length; i += 3) {
    const queue = queues[Number(reply[i]) - 1];
    if (queue !== undefined)
      into.found.push({ queue, ready: Number(reply[i + 1]), due: Number(reply[i + 2]) === 1 });
  }
}

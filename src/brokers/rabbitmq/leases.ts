/**
 * What a RabbitMQ broker instance holds: deliveries taken from RabbitMQ (unacknowledged on its
 * consumer channel) and handed out under a lease, the ones taken but not handed out yet (a
 * receive from several queues may get more than it asked for), and the heartbeats of the
 * consumers using this instance.
 *
 * RabbitMQ itself keeps an unacknowledged delivery for as long as its channel lives; the leases
 * here add what the broker contract asks on top: a lease that is not renewed, or whose consumer's
 * heartbeat expired, ends (the broker then puts the message back with `stalls` + 1).
 */
import type { Channel, ConsumeMessage } from "amqplib";
import type { Delivery, Message } from "../broker.js";

/** A delivery handed out by the RabbitMQ broker; `token` names its connection and tag. */
export class RabbitDelivery implements Delivery {
  readonly message: Message;
  readonly token: string;
  readonly leaseUntil: number;

  constructor(message: Message, token: string, leaseUntil: number) {
    this.message = message;
    this.token = token;
    this.leaseUntil = leaseUntil;
  }
}

/** One unacknowledged delivery of this instance. */
export interface Held {
  readonly message: Message;
  readonly raw: ConsumeMessage;
  /** The consumer channel it arrived on, and that channel's connection generation. */
  readonly channel: Channel;
  readonly gen: number;
  /** Fencing token: generation and delivery tag, unique for this instance. */
  readonly token: string;
  leaseUntil: number;
  holder: string | undefined;
}

export class Leases {
  readonly #held = new Map<string, Held>();
  readonly #stash = new Map<string, Held[]>();
  /** Heartbeat expiry (epoch ms) per consumer. */
  readonly #consumers = new Map<string, number>();

  get size(): number {
    return this.#held.size;
  }

  /** Hands out a taken delivery under a lease. */
  lease(held: Held, leaseMs: number, holder: string | undefined, now: number): RabbitDelivery {
    held.leaseUntil = now + leaseMs;
    held.holder = holder;
    this.#held.set(held.token, held);
    return new RabbitDelivery(held.message, held.token, held.leaseUntil);
  }

  /** The held delivery of `token` if its lease still holds, without removing it. */
  get(token: string): Held | undefined {
    return this.#held.get(token);
  }

  /** Removes and returns the held delivery of `token` (settling it: nobody else may). */
  take(token: string): Held | undefined {
    const held = this.#held.get(token);
    if (held) this.#held.delete(token);
    return held;
  }

  /** Keeps deliveries taken beyond a receive's `max` for the next receive. */
  stash(held: Held): void {
    const list = this.#stash.get(held.message.queue);
    if (list) list.push(held);
    else this.#stash.set(held.message.queue, [held]);
  }

  /** Up to `max` stashed deliveries of `queues` still on connection `gen`. */
  unstash(queues: readonly string[], max: number, gen: number | undefined): Held[] {
    const out: Held[] = [];
    for (const queue of queues) {
      const list = this.#stash.get(queue);
      if (!list) continue;
      while (list.length > 0 && out.length < max) {
        const held = list.shift()!;
        if (held.gen === gen) out.push(held);
      }
      if (list.length === 0) this.#stash.delete(queue);
    }
    return out;
  }

  /** Removes and returns every delivery (held or stashed) of the queue. */
  dropQueue(queue: string): Held[] {
    const out = [...this.#held.values()].filter((h) => h.message.queue === queue);
    for (const held of out) this.#held.delete(held.token);
    out.push(...(this.#stash.get(queue) ?? []));
    this.#stash.delete(queue);
    return out;
  }

  /** Forgets every delivery of a connection that is gone (RabbitMQ requeued them). */
  dropGeneration(gen: number): void {
    for (const [token, held] of this.#held) if (held.gen === gen) this.#held.delete(token);
    for (const [queue, list] of this.#stash) {
      const kept = list.filter((h) => h.gen !== gen);
      if (kept.length > 0) this.#stash.set(queue, kept);
      else this.#stash.delete(queue);
    }
  }

  /** Removes and returns every stashed delivery (to give back at disconnect). */
  drainStash(): Held[] {
    const out = [...this.#stash.values()].flat();
    this.#stash.clear();
    return out;
  }

  /** Removes and returns the leases that ended: expired, or their consumer's heartbeat did. */
  ended(now: number): Held[] {
    const out: Held[] = [];
    for (const held of this.#held.values()) {
      if (held.leaseUntil > now && this.#alive(held.holder, now)) continue;
      out.push(held);
    }
    for (const held of out) this.#held.delete(held.token);
    return out;
  }

  /** Leases held (and deliveries stashed) for the queue. */
  running(queue: string): number {
    let n = this.#stash.get(queue)?.length ?? 0;
    for (const held of this.#held.values()) if (held.message.queue === queue) n++;
    return n;
  }

  /** Records a consumer's heartbeat; `ttlMs` 0 removes it, `Infinity` keeps it until removed. */
  beat(consumer: string, ttlMs: number, now: number): void {
    if (ttlMs > 0) this.#consumers.set(consumer, now + ttlMs);
    else this.#consumers.delete(consumer);
  }

  #alive(holder: string | undefined, now: number): boolean {
    if (holder === undefined) return true;
    const until = this.#consumers.get(holder);
    return until !== undefined && until > now;
  }
}

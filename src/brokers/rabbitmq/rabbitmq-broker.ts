import type { ConsumeMessage } from "amqplib";
import { BrokerError, QueueNotDeclaredError } from "../../core/errors.js";
import { AdoptedLogger, type Logger } from "../../core/logger.js";
import type {
  BrokerCapabilities,
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  KeepAlive,
  Message,
  MessageBroker,
  OutgoingMessage,
  QueueCounts,
  ReceiveOptions,
  ScheduleInfo,
  Settlement,
  StoredResult,
} from "../broker.js";
import { decodeMessage } from "./codec.js";
import { consumeBurst, type Source } from "./consume.js";
import { Leases, type Held, type RabbitDelivery } from "./leases.js";
import { arrivalReplacement, publication } from "./publications.js";
import { unsupported, type RabbitBrokerOptions } from "./options.js";
import { QueueRegistry } from "./queue-registry.js";
import { readCounts, readDeadLetters } from "./reads.js";
import { Session, type AmqpSource, type Live, type Publication } from "./session.js";
import { Settler } from "./settler.js";
import { declareTopology, deleteTopology, purgeTopology, type QueueNames } from "./topology.js";

/**
 * A broker on RabbitMQ (AMQP 0-9-1, through amqplib), without plugins.
 *
 * - Priorities: strict among ready messages (`x-max-priority`). FIFO within a level holds this
 *   far: fresh messages in the order they reached the queue (enqueue order for one producer);
 *   messages coming back (given back, retried, recovered, or due after a delay) in a band of
 *   their level served before its fresh ones, in the order they came back; delayed messages in
 *   due order to the ladder's 10 ms unit. Deliveries a receive from several queues took beyond
 *   its `max` go out with the next receive, ahead of newer ones.
 * - Delays: a ladder of TTL queues and dead-letter exchanges (see `topology.ts`): never early,
 *   ready 10 ms rounding plus a few ms per hop after due (tens of ms), for any delay up to ~497
 *   days in one pass (longer ones pass again), with no plugin and no process moving messages.
 * - At least once: a message is acked only after its settlement (and the messages that replace it,
 *   for a retry or a dead letter, are confirmed by RabbitMQ first). Deliveries live on a channel;
 *   when the connection drops (or a worker process dies) RabbitMQ requeues them, and they come
 *   back with `stalls` + 1. Tokens name the connection and delivery tag, so a settlement from a
 *   closed connection never applies to a redelivered copy.
 * - Leases: RabbitMQ holds an unacked delivery while its channel lives (mind RabbitMQ's
 *   `consumer_timeout`, 30 min by default: a job running longer closes the channel and comes back;
 *   raise it above your longest job). On top, this instance ends leases that are not renewed or
 *   whose consumer's heartbeat ended, as the contract says.
 * - No uniqueness by id (every enqueue adds a message, `created` is always true), no periodic
 *   messages, no stored results (use `new Connection(broker, { results })`): these throw
 *   `NotSupportedError`. `counts().running` counts this instance's leases only.
 * - Reconnects on its own; enqueues wait for RabbitMQ's publisher confirm and are republished on
 *   the next connection if unconfirmed (so a producer may, rarely, send a message twice; it never
 *   reports success for an unconfirmed one).
 * @example new RabbitMessageBroker("amqp://guest:guest@127.0.0.1:5672")
 */
export class RabbitMessageBroker implements MessageBroker {
  readonly capabilities: BrokerCapabilities = Object.freeze({
    delays: true,
    uniqueIds: false,
    results: false,
    schedules: false,
    globalRunningCount: false,
  });
  readonly #session: Session;
  readonly #leases = new Leases();
  readonly #queues: QueueRegistry;
  readonly #settler: Settler;
  readonly #maxStalls: number;
  readonly #opTimeoutMs: number;
  readonly #leaseCheckMs: number;
  readonly #logger: Logger;
  #leaseTimer: NodeJS.Timeout | undefined;
  #connected = false;

  /**
   * @param source an AMQP URL, amqplib connect options, or an open amqplib connection (which the
   * broker then neither closes nor can reopen).
   */
  constructor(source: AmqpSource, options: RabbitBrokerOptions = {}) {
    this.#maxStalls = options.maxStalls ?? 3;
    this.#opTimeoutMs = options.operationTimeoutMs ?? 30_000;
    this.#leaseCheckMs = options.leaseCheckIntervalMs ?? 250;
    this.#logger = options.logger ?? new AdoptedLogger();
    this.#session = new Session(source, {
      heartbeatSeconds: options.heartbeatSeconds ?? 15,
      connectionName: options.connectionName ?? "repid",
      logger: this.#logger,
      onLost: (gen) => this.#leases.dropGeneration(gen),
    });
    this.#queues = new QueueRegistry(options.prefix ?? "repid", this.#session);
    this.#settler = new Settler({
      session: this.#session,
      leases: this.#leases,
      logger: this.#logger,
      maxStalls: this.#maxStalls,
      names: (queue) => this.#queueNames(queue),
    });
  }

  /** @see MessageBroker.useLogger */
  useLogger(logger: Logger): void {
    if (this.#logger instanceof AdoptedLogger) this.#logger.adopt(logger);
  }

  async connect(): Promise<void> {
    if (this.#connected) return;
    await this.#session.open();
    this.#connected = true;
    this.#leaseTimer = setInterval(() => void this.#endLeases(), this.#leaseCheckMs);
    this.#leaseTimer.unref();
  }

  async disconnect(): Promise<void> {
    if (!this.#connected) return;
    this.#connected = false;
    clearInterval(this.#leaseTimer);
    // Taken but never handed out: back to the queue as they were (no stall counted).
    const stashed = this.#leases.drainStash();
    const live = this.#session.current;
    if (live && stashed.length > 0) {
      await this.#settler
        .replace(live, stashed, (h) => [this.#back(h.message)])
        .catch(() => undefined);
    }
    await this.#session.close();
  }

  async declareQueue(queue: string): Promise<void> {
    try {
      await declareTopology((tasks) => this.#session.run(tasks), this.#queueNames(queue));
    } catch (error) {
      throw new BrokerError(
        `RabbitMQ refused to declare queue "${queue}" (${error instanceof Error ? error.message : String(error)}); a queue or exchange of that name with other arguments may exist`,
        { cause: error },
      );
    }
    this.#queues.add(queue);
  }

  async flushQueue(queue: string): Promise<void> {
    const live = await this.#live();
    this.#ackAll(this.#leases.dropQueue(queue));
    if (!(await this.queueExists(queue))) return;
    await purgeTopology(live.pub, this.#queueNames(queue));
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.#live();
    this.#ackAll(this.#leases.dropQueue(queue));
    this.#queues.forget(queue);
    await deleteTopology((tasks) => this.#session.run(tasks), this.#queueNames(queue));
  }

  async queueExists(queue: string): Promise<boolean> {
    return this.#queues.exists(queue);
  }

  async enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    for (const m of messages) {
      if (m.schedule) {
        throw unsupported("periodic messages");
      }
    }
    await this.#checkDeclared(new Set(messages.map((m) => m.queue)), true);
    const now = Date.now();
    const pubs = messages.map((m) =>
      publication(this.#queueNames(m.queue), stored(m, now), false, now),
    );
    const returned = await this.#session.publish(pubs, now + this.#opTimeoutMs);
    for (const i of returned) {
      // Deleted by someone else since this instance last saw it.
      const queue = messages[i]!.queue;
      this.#queues.forget(queue);
      throw new QueueNotDeclaredError(queue);
    }
    return messages.map((m) => ({ id: m.id, created: true }));
  }

  async schedules(_queue: string): Promise<ScheduleInfo[]> {
    throw unsupported("schedules()");
  }

  async removeSchedule(_queue: string, _id: string): Promise<boolean> {
    throw unsupported("removeSchedule()");
  }

  async receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    const { max, signal } = options;
    await this.#checkDeclared(queues, true);
    const sources: Source[] = queues.map((q) => ({ queue: q, main: this.#queueNames(q).main }));
    await this.#endLeases();
    for (;;) {
      if (signal?.aborted || !this.#connected) return [];
      const stashed = this.#leases.unstash(queues, max, this.#session.current?.gen);
      if (stashed.length > 0) return this.#handOut(stashed, [], options);
      let live: Live;
      try {
        live = await this.#session.live(Infinity, signal);
      } catch (error) {
        if (signal?.aborted || !this.#connected) return [];
        throw error;
      }
      const { taken: held, missing } = await consumeBurst(
        live.cons,
        sources,
        max,
        signal,
        (raw, source) => this.#accept(live, raw, source),
      );
      // Deleted elsewhere: say so instead of consuming it again and again.
      if (missing) await this.#checkDeclared(queues);
      // Taken on a connection that is gone: RabbitMQ has requeued them already.
      if (this.#session.current !== live) continue;
      if (held.length > 0) return this.#handOut(held.slice(0, max), held.slice(max), options);
    }
  }

  settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    return this.#settler.settle(settlements);
  }

  async renew(deliveries: readonly Delivery[], leaseMs: number): Promise<boolean[]> {
    const until = Date.now() + leaseMs;
    const gen = this.#session.current?.gen;
    return deliveries.map((d) => {
      const held = this.#leases.get(d.token);
      if (!held || held.gen !== gen) return false;
      held.leaseUntil = until;
      return true;
    });
  }

  async heartbeat(consumer: string, _queues: readonly string[], ttlMs: number): Promise<void> {
    this.#leases.beat(consumer, ttlMs, Date.now());
    if (ttlMs <= 0) await this.#endLeases();
  }

  /**
   * In one process the consumer lives as long as this instance: its record never expires. A
   * crashed process's deliveries come back when RabbitMQ sees its connection close.
   */
  keepAlive(consumer: string): KeepAlive {
    this.#leases.beat(consumer, Infinity, Date.now());
    return { stop: () => this.heartbeat(consumer, [], 0) };
  }

  async counts(queue: string): Promise<QueueCounts> {
    await this.#endLeases();
    const counts = await readCounts(this.#session, this.#queueNames(queue));
    return { ...counts, running: this.#leases.running(queue) };
  }

  async deadLetters(
    queue: string,
    options: { readonly limit?: number } = {},
  ): Promise<DeadLetter[]> {
    const live = await this.#live();
    return readDeadLetters(live.model, this.#queueNames(queue), options.limit);
  }

  async readResult(_id: string): Promise<StoredResult | undefined> {
    throw unsupported("results");
  }

  async waitForResult(_id: string): Promise<StoredResult | undefined> {
    throw unsupported("results");
  }

  /** Sorts one arriving delivery: usable (held), or handled here (`undefined`). */
  #accept(live: Live, raw: ConsumeMessage, source: Source): Held | undefined {
    const message = decodeMessage(source.queue, raw.content);
    const names = this.#queueNames(source.queue);
    const replacement = arrivalReplacement(names, message, raw, this.#maxStalls, Date.now());
    if (replacement || !message) {
      if (replacement) void this.#settler.replaceRaw(live, raw, [replacement]);
      return undefined;
    }
    return {
      message,
      raw,
      channel: live.cons,
      gen: live.gen,
      token: `${live.gen}.${raw.fields.deliveryTag}`,
      leaseUntil: 0,
      holder: undefined,
    };
  }

  #handOut(now: Held[], later: Held[], options: ReceiveOptions): RabbitDelivery[] {
    for (const held of later) this.#leases.stash(held);
    const at = Date.now();
    return now.map((h) => this.#leases.lease(h, options.leaseMs, options.consumer, at));
  }

  /** Ends leases that expired (or whose consumer did): back with `stalls` + 1, or dead. */
  #endLeases(): Promise<void> {
    return this.#settler.endLeases();
  }

  #back(message: Message): Publication {
    return publication(this.#queueNames(message.queue), message, true, Date.now());
  }

  /** Throws `QueueNotDeclaredError` for the first queue that does not exist. */
  async #checkDeclared(queues: Iterable<string>, trustKnown = false): Promise<void> {
    for (const queue of queues) {
      if (trustKnown && this.#queues.known(queue)) continue;
      if (!(await this.queueExists(queue))) throw new QueueNotDeclaredError(queue);
    }
  }

  #ackAll(held: readonly Held[]): void {
    const live = this.#session.current;
    if (!live) return;
    for (const h of held) if (h.gen === live.gen) live.cons.ack(h.raw);
  }

  #live(): Promise<Live> {
    return this.#session.live(Date.now() + this.#opTimeoutMs);
  }

  #queueNames(queue: string): QueueNames {
    return this.#queues.names(queue);
  }
}

/** A new message as stored: attempt 1, no stalls. */
function stored(m: OutgoingMessage, now: number): Message {
  return { ...m, attempt: 1, enqueuedAt: now, stalls: 0 };
}

export type { AmqpSource, RabbitBrokerOptions };

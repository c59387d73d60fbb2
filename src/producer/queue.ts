import type { DeadLetter, QueueCounts, ScheduleInfo } from "../brokers/broker.js";
import type { Connection } from "../connection/connection.js";
import { checkQueueName } from "../core/validate.js";
import { resolveConnection } from "../connection/repid.js";
import { topicLimits } from "../core/limits.js";
import type { Registry } from "../core/registry.js";
import { declareLimits } from "../brokers/declare-limits.js";

export interface QueueOptions {
  /** Use this connection instead of the ambient `magic()` one. */
  readonly connection?: Connection;
}

/**
 * A named queue on the broker. Declare it before enqueueing; declaring again has no effect.
 * @example await new Queue("emails").declare();
 */
export class Queue {
  /** @defaultValue "default" */
  readonly name: string;
  readonly #connection: Connection | undefined;

  constructor(name = "default", options: QueueOptions = {}) {
    this.name = checkQueueName(name);
    this.#connection = options.connection;
  }

  /**
   * Creates the queue on the broker if needed (idempotent). Given a generated `registry`, also
   * declares the limits (`concurrency`, `rateLimit`) of its actors on this queue, as a worker
   * running them does at its start: jobs enqueued from then on are limited even before one runs.
   */
  async declare(options: { readonly registry?: Registry } = {}): Promise<void> {
    const broker = await this.#broker();
    await broker.declareQueue(this.name);
    if (options.registry === undefined) return;
    const actors = Object.values(options.registry)
      .filter((def) => def.queue === this.name)
      .map((def) => ({
        queue: def.queue,
        name: def.name,
        limits: topicLimits(def.concurrency, def.rateLimit),
      }));
    await declareLimits(broker, actors);
  }

  /** Removes all of its messages, dead letters included; the queue stays declared. */
  async flush(): Promise<void> {
    await (await this.#broker()).flushQueue(this.name);
  }

  /** Removes the queue and everything in it. */
  async delete(): Promise<void> {
    await (await this.#broker()).deleteQueue(this.name);
  }

  async exists(): Promise<boolean> {
    return (await this.#broker()).queueExists(this.name);
  }

  /** How many messages are ready, delayed, running and dead. */
  async counts(): Promise<QueueCounts> {
    return (await this.#broker()).counts(this.name);
  }

  /** Dead letters with their failure reasons, oldest first. */
  async deadLetters(options: { readonly limit?: number } = {}): Promise<DeadLetter[]> {
    return (await this.#broker()).deadLetters(this.name, options);
  }

  /** Periodic jobs (cron or recurring) of this queue: id, actor, schedule, next run. */
  async schedules(): Promise<ScheduleInfo[]> {
    return (await this.#broker()).schedules(this.name);
  }

  /**
   * Removes a periodic job by id (see `schedules()`), in whatever state: a run in progress
   * finishes but is not rescheduled. True when it existed.
   */
  async removeSchedule(id: string): Promise<boolean> {
    return (await this.#broker()).removeSchedule(this.name, id);
  }

  async #broker() {
    const connection = resolveConnection(this.#connection);
    await connection.connect();
    return connection.broker;
  }
}

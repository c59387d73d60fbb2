import type { DeadLetter, QueueCounts, ScheduleInfo } from "../brokers/broker.js";
import type { Connection } from "../connection/connection.js";
import { checkQueueName } from "../core/validate.js";
import { resolveConnection } from "../connection/repid.js";

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

  /** Creates the queue on the broker if needed (idempotent). */
  async declare(): Promise<void> {
    await (await this.#broker()).declareQueue(this.name);
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

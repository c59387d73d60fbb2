/**
 * Job updates a worker publishes: `ctx.progress(value)` for every job, and the lifecycle
 * (running, failed, succeeded, dead) only for jobs sent with the watch header (see
 * core/watch.ts), so that plain jobs cost nothing more.
 */
import type { JobUpdateState, Message, MessageBroker } from "../../brokers/broker.js";
import { capabilitiesOf } from "../../brokers/broker.js";
import { ValidationError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { zodIssues, type Registry } from "../../core/registry.js";
import { UPDATE_TTL_MS, progressText } from "../../core/watch.js";

const DONE: Promise<void> = Promise.resolve();

export class Updates {
  readonly #broker: MessageBroker;
  readonly #logger: Logger;
  /** False on a broker without job updates: progress is then dropped. */
  readonly #on: boolean;
  /** The last progress of each attempt (by its message), carried on by its lifecycle updates. */
  readonly #last = new WeakMap<Message, string>();
  /** The worker's registry: a progress value must fit its actor's progress schema. */
  readonly #registry: Registry | undefined;

  constructor(broker: MessageBroker, logger: Logger, registry?: Registry) {
    this.#broker = broker;
    this.#logger = logger;
    this.#registry = registry;
    this.#on = capabilitiesOf(broker).progress === true && broker.publishUpdate !== undefined;
  }

  /**
   * `ctx.progress(value)`: the value must be JSON, and fit the actor's progress schema when the
   * worker has a registry (else `ValidationError`, and nothing is published), then published as
   * the running attempt's.
   */
  progress(message: Message, value: unknown): Promise<void> {
    // Checked on every broker, so that a wrong value shows the same wherever the actor runs.
    const schema = this.#registry?.[message.topic]?.progress;
    if (schema) {
      const parsed = schema.safeParse(value);
      if (!parsed.success)
        return Promise.reject(
          new ValidationError(message.topic, zodIssues(parsed.error), "progress"),
        );
    }
    if (!this.#on) return DONE;
    let text: string;
    try {
      text = progressText(value);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#last.set(message, text);
    return this.#broker.publishUpdate!(
      message.queue,
      message.id,
      { state: "running", attempt: message.attempt, progress: text, at: Date.now() },
      UPDATE_TTL_MS,
    );
  }

  /**
   * A watched job's lifecycle; never throws (a lost update must not fail the job), a failure is
   * logged. `attempt` is the attempt the update is about.
   */
  async lifecycle(message: Message, state: JobUpdateState, attempt: number): Promise<void> {
    if (!this.#on) return;
    const progress = this.#last.get(message);
    try {
      await this.#broker.publishUpdate!(
        message.queue,
        message.id,
        progress === undefined
          ? { state, attempt, at: Date.now() }
          : { state, attempt, progress, at: Date.now() },
        UPDATE_TTL_MS,
      );
    } catch (error) {
      this.#logger.warn(`repid: publishing the update of job "${message.id}" failed`, {
        id: message.id,
        state,
        error,
      });
    }
  }
}

import type {
  BrokerAdmin,
  CancelMode,
  CancelOutcome,
  JobView,
  MessageState,
  Page,
  PageOptions,
  QueueInfo,
} from "../brokers/admin.js";
import type { MessageBroker, ScheduleInfo } from "../brokers/broker.js";
import type { Connection } from "../connection/connection.js";
import { NotSupportedError } from "../core/errors.js";
import { resolveConnection } from "../connection/repid.js";
import { withProgressAndFlow } from "./job-extras.js";

/**
 * The operator's view of a broker: queues, jobs by state, lookup, cancellation, dead-letter
 * replay, pause and resume, schedules. The `repid` CLI and the dashboard call these same methods.
 * @example
 * const admin = new Admin(connection);
 * await admin.replay("emails"); // every dead letter of "emails" back to ready
 */
export class Admin {
  readonly #connection: Connection | undefined;

  /** @param connection the connection to use; the ambient `magic()` one by default */
  constructor(connection?: Connection) {
    this.#connection = connection;
  }

  /** Declared queues with counts and pause flags. */
  async queues(): Promise<QueueInfo[]> {
    return (await this.#admin()).queues();
  }

  /** One page of a queue's messages in one state (see `BrokerAdmin.jobs` for the order). */
  async jobs(queue: string, state: MessageState, options?: PageOptions): Promise<Page<JobView>> {
    return (await this.#admin()).jobs(queue, state, options);
  }

  /**
   * A job by id: in `queue`, or in every declared queue when none is given; with its last
   * progress (on a broker that keeps job updates) and, for a step of a flow, its place in it.
   */
  async job(id: string, queue?: string): Promise<JobView | undefined> {
    const admin = await this.#admin();
    const queues = queue !== undefined ? [queue] : (await admin.queues()).map((q) => q.name);
    for (const q of queues) {
      const found = await admin.job(q, id);
      if (found) return withProgressAndFlow(await this.#broker(), found);
    }
    return undefined;
  }

  /**
   * Cancels a job: removed when waiting or delayed; when running, its worker aborts `ctx.signal`
   * at its next lease renewal (within a third of the lease) and ends it as `mode` says:
   * dead-lettered with code `CANCELLED` (the default) or acked. Never retried.
   */
  async cancel(queue: string, id: string, mode: CancelMode = "dead"): Promise<CancelOutcome> {
    return (await this.#admin()).cancel(queue, id, mode);
  }

  /** Dead letters back to ready with attempt 1 (`ids` absent: all of the queue's). */
  async replay(queue: string, ids?: readonly string[]): Promise<number> {
    return (await this.#admin()).replay(queue, ids);
  }

  /** Deletes dead letters (`ids` absent: all of the queue's). */
  async deleteDead(queue: string, ids?: readonly string[]): Promise<number> {
    return (await this.#admin()).deleteDead(queue, ids);
  }

  /** Workers take nothing from the queue until `resume`; running jobs finish. */
  async pause(queue: string): Promise<void> {
    return (await this.#admin()).pause(queue);
  }

  async resume(queue: string): Promise<void> {
    return (await this.#admin()).resume(queue);
  }

  /** Periodic jobs: of `queue`, or of every declared queue. */
  async schedules(queue?: string): Promise<ScheduleInfo[]> {
    const broker = await this.#broker();
    if (queue !== undefined) return broker.schedules(queue);
    const all: ScheduleInfo[] = [];
    for (const q of await (await this.#admin()).queues())
      all.push(...(await broker.schedules(q.name)));
    return all;
  }

  /** Removes a periodic job (a run in progress finishes but is not rescheduled). */
  async removeSchedule(queue: string, id: string): Promise<boolean> {
    return (await this.#broker()).removeSchedule(queue, id);
  }

  async #broker(): Promise<MessageBroker> {
    const connection = resolveConnection(this.#connection);
    await connection.connect();
    return connection.broker;
  }

  async #admin(): Promise<BrokerAdmin> {
    const broker = await this.#broker();
    if (!broker.admin) {
      throw new NotSupportedError(
        broker.constructor.name,
        "admin operations",
        "use a broker that has them (in-memory, Redis)",
      );
    }
    return broker.admin;
  }
}

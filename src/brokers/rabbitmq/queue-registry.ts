/**
 * The queues a RabbitMQ broker instance knows: the names of each queue's topology (built once per
 * queue), and which queues exist, as far as this instance has seen, so that enqueues and
 * receives need not ask RabbitMQ about a queue this instance saw declared.
 */
import type { Session } from "./session.js";
import { queueNames, type QueueNames } from "./topology.js";

export class QueueRegistry {
  readonly #prefix: string;
  readonly #session: Session;
  /** Queues known to exist (declared or seen by this instance). */
  readonly #known = new Set<string>();
  readonly #names = new Map<string, QueueNames>();

  constructor(prefix: string, session: Session) {
    this.#prefix = prefix;
    this.#session = session;
  }

  /** The names of the queue's objects (main queue, dead letters, delay ladder), made once. */
  names(queue: string): QueueNames {
    let names = this.#names.get(queue);
    if (!names) this.#names.set(queue, (names = queueNames(this.#prefix, queue)));
    return names;
  }

  /** Whether this instance saw the queue exist (declared here, or found) and not go since. */
  known(queue: string): boolean {
    return this.#known.has(queue);
  }

  /** The queue exists (it was declared here, or found). */
  add(queue: string): void {
    this.#known.add(queue);
  }

  /** The queue is gone (deleted here, or by someone else). */
  forget(queue: string): void {
    this.#known.delete(queue);
  }

  /** Asks RabbitMQ whether the queue exists, and remembers the answer. */
  async exists(queue: string): Promise<boolean> {
    const found = await this.#session.probe((ch) => ch.checkQueue(this.names(queue).main));
    if (found) this.#known.add(queue);
    else this.#known.delete(queue);
    return found !== undefined;
  }
}

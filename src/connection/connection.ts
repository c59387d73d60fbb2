import {
  capabilitiesOf,
  type EnqueueOutcome,
  type MessageBroker,
  type OutgoingMessage,
  type ResultStore,
} from "../brokers/broker.js";
import { NoResultStoreError, NotSupportedError } from "../core/errors.js";
import type { Hooks } from "../core/hooks.js";
import { HookSet } from "./hook-set.js";
import { defaultLogger, type Logger } from "../core/logger.js";
import { ResultStoreBroker } from "../results/with-result-store.js";

export interface ConnectionOptions {
  /** @defaultValue `defaultLogger`: warnings and errors to the console, the rest dropped */
  readonly logger?: Logger;
  /** Lifecycle hooks for every producer and worker using this connection. @defaultValue [] */
  readonly hooks?: readonly Hooks[];
  /**
   * Where job results are kept, apart from the broker (needed for `storeResult` on a broker
   * without results, such as RabbitMQ). Results are then read and stored only there.
   * @defaultValue the broker's own results (in-memory, Redis); none for RabbitMQ
   */
  readonly results?: ResultStore;
}

/**
 * A broker plus what the runtime needs around it. Connect once, share everywhere.
 * @example new Connection(new InMemoryMessageBroker())
 */
export class Connection {
  readonly broker: MessageBroker;
  readonly logger: Logger;
  /** @internal The connection's hooks, run by producers and workers. */
  readonly hookSet: HookSet;
  #connected = false;
  #connecting: Promise<void> | undefined;
  readonly #keepsResults: boolean;
  readonly #dedupes: boolean;
  readonly #debounces: boolean;
  readonly #transactions: boolean;

  constructor(broker: MessageBroker, options: ConnectionOptions = {}) {
    this.broker = options.results ? new ResultStoreBroker(broker, options.results) : broker;
    this.#keepsResults = capabilitiesOf(this.broker).results;
    this.#dedupes = capabilitiesOf(this.broker).dedupe === true;
    this.#debounces = capabilitiesOf(this.broker).debounce === true;
    this.#transactions = capabilitiesOf(this.broker).transactions === true;
    this.logger = options.logger ?? defaultLogger;
    this.hookSet = new HookSet(options.hooks ?? [], this.logger);
    // A broker (or result store) given no logger of its own logs through this connection's.
    this.broker.useLogger?.(this.logger);
  }

  /** Sends messages through the `onEnqueue` hooks to the broker (connecting first if needed). */
  async enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    if (!this.#connected) await this.connect();
    const hooks = this.hookSet;
    const sent = hooks.hasEnqueue ? await hooks.enqueue(messages) : messages;
    if (!this.#keepsResults) {
      const wants = sent.find((m) => m.resultTtlMs !== undefined);
      if (wants) throw new NoResultStoreError(wants.id, wants.topic);
    }
    if (!this.#dedupes && sent.some((m) => m.dedupeMs !== undefined)) {
      throw new NotSupportedError(
        this.broker.constructor.name,
        "dedupe",
        "its ids are free again once a message ends; use the in-memory or Redis broker for dedupe windows",
      );
    }
    if (!this.#debounces && sent.some((m) => m.debounceMs !== undefined)) {
      throw new NotSupportedError(
        this.broker.constructor.name,
        "debounce",
        "use the in-memory or Redis broker for debounced jobs",
      );
    }
    if (!this.#transactions && sent.some((m) => m.transaction !== undefined)) {
      throw new NotSupportedError(
        this.broker.constructor.name,
        "transaction",
        "it cannot store a job in your database transaction; use the Postgres broker (repid/postgres)",
      );
    }
    return this.broker.enqueue(sent);
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  /** Connects the broker; concurrent and repeated calls share one attempt. */
  async connect(): Promise<void> {
    if (this.#connected) return;
    this.#connecting ??= this.broker.connect().then(
      () => {
        this.#connected = true;
        this.#connecting = undefined;
      },
      (error: unknown) => {
        this.#connecting = undefined;
        throw error;
      },
    );
    return this.#connecting;
  }

  async disconnect(): Promise<void> {
    if (this.#connecting) await this.#connecting.catch(() => {});
    if (!this.#connected) return;
    this.#connected = false;
    await this.broker.disconnect();
  }
}

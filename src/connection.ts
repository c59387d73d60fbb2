import type { MessageBroker } from "./brokers/broker.js";
import { silentLogger, type Logger } from "./logger.js";

export interface ConnectionOptions {
  /** @defaultValue a logger that drops everything */
  readonly logger?: Logger;
}

/**
 * A broker plus what the runtime needs around it. Connect once, share everywhere.
 * @example new Connection(new InMemoryMessageBroker())
 */
export class Connection {
  readonly broker: MessageBroker;
  readonly logger: Logger;
  #connected = false;
  #connecting: Promise<void> | undefined;

  constructor(broker: MessageBroker, options: ConnectionOptions = {}) {
    this.broker = broker;
    this.logger = options.logger ?? silentLogger;
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

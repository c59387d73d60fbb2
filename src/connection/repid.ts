import { AsyncLocalStorage } from "node:async_hooks";
import type { Connection } from "./connection.js";
import { NoConnectionError } from "../core/errors.js";
import { refuseInExecutor } from "../core/executor-flag.js";

const ambient = new AsyncLocalStorage<Connection>();

export interface MagicOptions {
  /** Disconnect when the callback ends (returns or throws). @defaultValue false */
  readonly autoDisconnect?: boolean;
}

/**
 * The application: owns a connection and makes it ambient for code run inside `magic()`.
 * @example
 * const app = new Repid(new Connection(new InMemoryMessageBroker()));
 * await app.magic(async () => { await new Queue().declare(); });
 */
export class Repid {
  readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  /** Connects, then runs `fn` with this app's connection as the ambient one. */
  async magic<T>(fn: () => T | Promise<T>, options: MagicOptions = {}): Promise<T> {
    refuseInExecutor("Repid.magic()");
    await this.connection.connect();
    try {
      return await ambient.run(this.connection, fn);
    } finally {
      if (options.autoDisconnect) await this.connection.disconnect();
    }
  }
}

/** The explicit connection if given, else the ambient one; throws `NoConnectionError` otherwise. */
export function resolveConnection(explicit?: Connection): Connection {
  const connection = explicit ?? ambient.getStore();
  if (!connection) throw new NoConnectionError();
  return connection;
}

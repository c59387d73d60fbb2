import { Connection } from "../src/connection/connection.js";
import { InMemoryMessageBroker } from "../src/brokers/in-memory/in-memory-broker.js";
import { silentLogger, type Logger } from "../src/core/logger.js";
import { Repid } from "../src/connection/repid.js";

export function memoryApp(logger?: Logger): {
  app: Repid;
  broker: InMemoryMessageBroker;
  connection: Connection;
} {
  const broker = new InMemoryMessageBroker({ leaseCheckIntervalMs: 50 });
  // Quiet by default: tests that check log lines pass a recording logger.
  const connection = new Connection(broker, { logger: logger ?? silentLogger });
  return { app: new Repid(connection), broker, connection };
}

export interface Logged {
  readonly level: keyof Logger;
  readonly message: string;
}

/** A logger that records what it is told, for tests that check warnings. */
export function recordingLogger(): Logger & { readonly lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: keyof Logger) => (message: string) => void lines.push({ level, message });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export { waitFor } from "./brokers/contract.js";

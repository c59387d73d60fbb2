import type { Connection } from "../connection/connection.js";
import type { Writable } from "./output.js";

/** What the commands need: output, environment, and the connection (opened on first use). */
export interface CliSession {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Stops `repid dashboard`. */
  readonly signal?: AbortSignal | undefined;
  connection(options: GlobalOptions): Promise<Connection>;
}

/** Options every command takes. */
export interface GlobalOptions {
  readonly redis?: string;
  readonly prefix?: string;
  readonly postgres?: string;
  readonly schema?: string;
  readonly json?: boolean;
}

import { BrokerError, QueueNotDeclaredError, RepidError } from "../../core/errors.js";

/**
 * A `BrokerError` (code `BROKER`) from the Postgres broker, with Postgres's SQLSTATE (or the
 * socket's code, `ECONNREFUSED`...) in `pgCode`, `"UNKNOWN"` when there is none.
 * @example
 * try { await broker.connect(); } catch (e) {
 *   if (e instanceof PostgresBrokerError && e.pgCode === "28P01") ... // wrong password
 * }
 */
export class PostgresBrokerError extends BrokerError {
  readonly pgCode: string;

  constructor(pgCode: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.pgCode = pgCode;
  }
}

/** The SQLSTATE `enqueue(jsonb)` raises for a queue that is not declared (its name in DETAIL). */
const QUEUE_NOT_DECLARED = "RQ001";

/** Turns what `pg` threw into a repid error (`RepidError`s pass unchanged). */
export function toRepidError(error: unknown, doing: string): RepidError {
  if (error instanceof RepidError) return error;
  const e = error as { code?: unknown; detail?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : "UNKNOWN";
  if (code === QUEUE_NOT_DECLARED && typeof e.detail === "string") {
    return new QueueNotDeclaredError(e.detail);
  }
  const text = typeof e?.message === "string" ? e.message : String(error);
  return new PostgresBrokerError(code, `Postgres broker: ${doing} failed: ${text}`, {
    cause: error,
  });
}

/**
 * True for a connection that died (terminated by the server, reset, closed): the pool drops it,
 * and the same statement may go again on another connection.
 */
export function connectionLost(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code.startsWith("57P") || code.startsWith("08")) return true;
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNREFUSED") return true;
  const text = typeof e?.message === "string" ? e.message : "";
  return /Connection terminated|Client has encountered a connection error/.test(text);
}

/**
 * Runs `work`, turning what `pg` throws into a repid error. With `retry`, for statements that may
 * run twice (reads, renewals, heartbeats, declarations), a lost connection is tried once more.
 */
export async function wrapPg<T>(doing: string, work: () => Promise<T>, retry = false): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!retry || !connectionLost(error)) throw toRepidError(error, doing);
  }
  try {
    return await work();
  } catch (error) {
    throw toRepidError(error, doing);
  }
}

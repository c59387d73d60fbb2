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
 * True when the statement certainly never reached a server: the pool could not open a
 * connection (refused, or the server is starting up or shutting down: 57P03), or the client
 * handed out had already failed. Any statement may then go again.
 */
export function neverSent(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code === "ECONNREFUSED" || code === "57P03") return true;
  const text = typeof e?.message === "string" ? e.message : "";
  return /Client has encountered a connection error and is not queryable/.test(text);
}

/** Tries after the first, for a statement that met a lost connection (see `wrapPg`). */
const RETRIES = 3;

/**
 * Runs `work`, turning what `pg` throws into a repid error. With `retry`, for statements that may
 * run twice (reads, renewals, heartbeats, declarations), a lost connection is tried again (up to
 * 3 more times); any statement is tried again when it never reached a server. Before each try
 * the sockets' pending events run: when a server restarts or its backends are terminated, every
 * idle connection of the pool dies at once, and the pool must drop the others before handing one
 * to the next try (else each try meets another dead connection).
 */
export async function wrapPg<T>(doing: string, work: () => Promise<T>, retry = false): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const again = neverSent(error) || (retry && connectionLost(error));
      if (!again || attempt >= RETRIES) throw toRepidError(error, doing);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

import { BrokerError, RepidError } from "../../core/errors.js";

/**
 * What went wrong with Redis, as far as the broker can tell: Redis's own error code where it
 * sent one (`WRONGPASS`, `NOAUTH`, `NOPERM`, `OOM`, `WRONGTYPE`...), the socket's (`ECONNREFUSED`,
 * `ETIMEDOUT`...), or the broker's (`EVICTION_POLICY`, `CONNECT_TIMEOUT`, `UNKNOWN`).
 */
export type RedisFailure = string;

/**
 * A `BrokerError` (code `BROKER`) from the Redis broker, with the failure Redis reported in
 * `redisCode` and its message in the text, so that a wrong password reads as `WRONGPASS` and not
 * as "Connection is closed.".
 *
 * @example
 * try { await broker.connect(); } catch (e) {
 *   if (e instanceof RedisBrokerError && e.redisCode === "WRONGPASS") ...
 * }
 */
export class RedisBrokerError extends BrokerError {
  readonly redisCode: RedisFailure;

  constructor(redisCode: RedisFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.redisCode = redisCode;
  }
}

/** The code of a Redis or socket error: `WRONGPASS` from "WRONGPASS invalid...", `ECONNREFUSED`... */
export function failureCode(error: unknown): RedisFailure {
  if (error instanceof RedisBrokerError) return error.redisCode;
  if (error instanceof Error) {
    const sys = (error as { code?: unknown }).code;
    if (typeof sys === "string" && /^E[A-Z]+$/.test(sys)) return sys;
    const head = /^([A-Z][A-Z_]+)\b/.exec(error.message)?.[1];
    if (head && head !== "ERR") return head;
    if (error.message.includes("max number of clients")) return "MAXCLIENTS";
  }
  return "UNKNOWN";
}

/** Wraps anything thrown while talking to Redis; RepidErrors pass through unchanged. */
export function brokerError(what: string, error: unknown): RepidError {
  if (error instanceof RepidError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RedisBrokerError(failureCode(error), `Redis broker could not ${what}: ${message}`, {
    cause: error,
  });
}

/** Runs `fn`; what it throws is wrapped by `brokerError(what, ...)`. */
export async function wrapErrors<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw brokerError(what, error);
  }
}

/**
 * True when Redis answered with an error about the data (a key of the wrong type, a script that
 * failed on what it read), as opposed to a connection that failed or a server that refused us.
 */
export function isDataError(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (/\bWRONGTYPE\b/.test(e.message)) return true;
    if (e.name === "ReplyError" && /user_script|Error running script/.test(e.message)) return true;
  }
  return false;
}

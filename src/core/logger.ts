/** What repid logs through; pass your own (pino, console, ...) to see it. */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

const noop = (): void => {};

/** Drops everything (for tests, or to opt out of the default failure lines). */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});

/**
 * The default logger: warnings and errors (failed attempts, dead letters, lost leases, broker
 * trouble) go to the console's stderr with their structured fields; debug and info are dropped.
 * Pass your own (pino, console, ...) to route or widen them, or `silentLogger` to drop them.
 */
export const defaultLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  // The one place the library reaches the console: the logger users get when they pass none.
  warn: (message: string, meta?: Record<string, unknown>) =>
    meta === undefined ? console.warn(message) : console.warn(message, meta),
  error: (message: string, meta?: Record<string, unknown>) =>
    meta === undefined ? console.error(message) : console.error(message, meta),
});

/**
 * The logger of a broker or result store that was given none of its own: it logs through the
 * logger of the first `Connection` built on it (`useLogger`), and through `defaultLogger` until
 * then, so broker warnings (an evicting Redis, keep-alive failures, lost connections) are
 * visible in the setup every example uses: `new Connection(broker)`.
 */
export class AdoptedLogger implements Logger {
  #target: Logger = defaultLogger;
  #adopted = false;

  /** Logs through `logger` from now on; only the first call counts. */
  adopt(logger: Logger): void {
    if (this.#adopted) return;
    this.#adopted = true;
    this.#target = logger;
  }

  debug(message: string, meta?: Record<string, unknown>): void {
    this.#target.debug(message, meta);
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.#target.info(message, meta);
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.#target.warn(message, meta);
  }
  error(message: string, meta?: Record<string, unknown>): void {
    this.#target.error(message, meta);
  }
}

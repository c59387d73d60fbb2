import { ActorNotFoundError } from "./errors.js";

/**
 * Whether this thread or process is one of a worker's executors (it runs sync actors and
 * imports their modules, never a worker loop): set by the executor's entry, read by `magic()`
 * and `worker.run()`, which must not start there.
 */
const EXECUTOR = Symbol.for("repid.executor");

/** Marks this thread/process as a repid executor (it runs sync actors, never a worker loop). */
export function markExecutor(): void {
  (globalThis as { [EXECUTOR]?: boolean })[EXECUTOR] = true;
}

export function isExecutor(): boolean {
  return (globalThis as { [EXECUTOR]?: boolean })[EXECUTOR] === true;
}

/** Fails fast when a sync actor's module starts an app or a worker as it is imported. */
export function refuseInExecutor(what: string): void {
  if (!isExecutor()) return;
  throw new ActorNotFoundError(
    `${what} ran while a worker thread/process imported the module of a sync actor. Keep sync actors in a module without top-level side effects (no magic(), no worker.run()), and import that module from your service.`,
  );
}

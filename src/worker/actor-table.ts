import { ActorNotFoundError } from "../core/errors.js";
import type { ActorFunction } from "./router.js";

/**
 * Sync actors by module and name, shared by every copy of repid loaded in this thread. A worker
 * thread imports an actor's module; the module's own `router.actor(...)` calls land here, and
 * the thread looks the function up by name.
 */
const KEY = Symbol.for("repid.actor-table");

type Table = Map<string, Map<string, ActorFunction>>;

function table(): Table {
  const g = globalThis as { [KEY]?: Table };
  return (g[KEY] ??= new Map());
}

export function publishActor(module: string, name: string, fn: ActorFunction): void {
  const t = table();
  let byName = t.get(module);
  if (!byName) t.set(module, (byName = new Map()));
  byName.set(name, fn);
}

export function findActor(module: string, name: string): ActorFunction | undefined {
  return table().get(module)?.get(name);
}

/** Looks the actor up in any module loaded here (when its module URL was spelt differently). */
export function findActorByName(name: string): ActorFunction | undefined {
  for (const byName of table().values()) {
    const fn = byName.get(name);
    if (fn) return fn;
  }
  return undefined;
}

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

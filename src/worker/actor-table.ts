import type { ActorFunction } from "./actor-function.js";

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

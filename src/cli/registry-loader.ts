import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidOptionError } from "../core/errors.js";
import type { ActorDefinition, Registry } from "../core/registry.js";

/**
 * Imports a generated registry module (`export const registry = defineRegistry(...)`, as
 * `repid-gen` writes it). A `.ts` file needs a TypeScript loader: the one already running (tsx,
 * vitest), else `tsx` when installed. Throws `InvalidOptionError` naming what is wrong.
 */
export async function loadRegistry(path: string, cwd = process.cwd()): Promise<Registry> {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  const url = pathToFileURL(file).href;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (!isTypeScriptRefusal(error)) throw loadError(path, error);
    module = await importWithTsx(path, url);
  }
  const registry = module.registry ?? module.default;
  if (!isRegistry(registry)) {
    throw new InvalidOptionError(
      "registry",
      `${path} exports no \`registry\` made by defineRegistry (run repid-gen to write one)`,
    );
  }
  return registry;
}

/** An actor of the registry by its name or its client property; throws when there is none. */
export function findActor(registry: Registry, actor: string): ActorDefinition {
  const found =
    registry[actor] ?? Object.values(registry).find((definition) => definition.property === actor);
  if (!found) {
    const known = Object.keys(registry).sort().join(", ");
    throw new InvalidOptionError("actor", `no actor "${actor}" in the registry (it has: ${known})`);
  }
  return found;
}

async function importWithTsx(path: string, url: string): Promise<Record<string, unknown>> {
  let register: () => unknown;
  try {
    ({ register } = (await import("tsx/esm/api")) as { register: () => unknown });
  } catch {
    throw new InvalidOptionError(
      "registry",
      `${path} is TypeScript: install tsx (npm install --save-dev tsx) or pass the compiled .js file`,
    );
  }
  register();
  try {
    return (await import(`${url}?tsx`)) as Record<string, unknown>;
  } catch (error) {
    throw loadError(path, error);
  }
}

function isTypeScriptRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === "ERR_UNKNOWN_FILE_EXTENSION" || code === "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING"
  );
}

function loadError(path: string, error: unknown): InvalidOptionError {
  const reason = error instanceof Error ? error.message : String(error);
  const failure = new InvalidOptionError("registry", `cannot load ${path}: ${reason}`);
  return Object.assign(failure, { cause: error });
}

function isRegistry(value: unknown): value is Registry {
  if (typeof value !== "object" || value === null) return false;
  return Object.values(value).every(
    (d: unknown) =>
      typeof d === "object" &&
      d !== null &&
      typeof (d as ActorDefinition).name === "string" &&
      typeof (d as ActorDefinition).queue === "string" &&
      typeof (d as ActorDefinition).args?.safeParse === "function",
  );
}

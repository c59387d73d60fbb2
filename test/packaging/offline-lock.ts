/**
 * Lock files for new projects made from this repository's own lock: a project that asks for
 * `zod` and `typescript` (from the alias `typescript-7`) gets the entries, integrity hashes and
 * dependency trees this repository installed, so `npm install --offline` sets it up from npm's
 * cache (filled by this repository's `npm ci`) without a request to the registry.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

interface LockEntry {
  readonly name?: string;
  readonly version: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly [key: string]: unknown;
}

interface Lock {
  readonly packages: Record<string, LockEntry>;
}

const ROOT = new URL("../..", import.meta.url).pathname;

/** A package of a new project: its name there, and where to take it from. */
export type Source =
  | { readonly lock: string } // a path in this repository's lock, such as "node_modules/typescript-7"
  | { readonly tarball: string; readonly manifest: LockEntry; readonly integrity: string };

const FLAGS = new Set(["dev", "optional", "devOptional", "peer", "inBundle"]);

/**
 * An entry without the flags npm computes, with the registry address npm would record (this
 * repository's lock omits addresses; npm finds the tarball in its cache by the integrity hash).
 */
function clean(entry: LockEntry, path: string): LockEntry {
  const kept = Object.fromEntries(
    Object.entries(entry).filter(([key]) => !FLAGS.has(key) && key !== "name"),
  ) as Record<string, unknown>;
  if (entry.resolved === undefined && entry.integrity !== undefined) {
    const name =
      entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    const base = name.slice(name.lastIndexOf("/") + 1);
    kept["resolved"] = `https://registry.npmjs.org/${name}/-/${base}-${entry.version}.tgz`;
  }
  return kept as unknown as LockEntry;
}

/**
 * The `packages` of a lock for a project whose direct dependencies are `direct`, every other
 * package taken from this repository's lock (each with what it needs, found as node finds it:
 * nested first, then hoisted).
 */
export function lockFor(
  project: {
    readonly name: string;
    readonly dependencies: Record<string, string>;
    readonly devDependencies: Record<string, string>;
  },
  direct: Record<string, Source>,
): object {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as Lock;
  const out: Record<string, LockEntry> = {
    "": {
      name: project.name,
      version: "1.0.0",
      dependencies: project.dependencies,
      devDependencies: project.devDependencies,
    } as LockEntry,
  };
  const find = (from: string, name: string): string | undefined => {
    let base = from;
    for (;;) {
      const candidate = `${base ? `${base}/` : ""}node_modules/${name}`;
      const entry = lock.packages[candidate];
      if (entry && !entry.link) return candidate;
      if (!base) return undefined;
      const at = base.lastIndexOf("/node_modules/");
      base = at === -1 ? "" : base.slice(0, at);
    }
  };
  // Copies a package of the repository's lock found at `from` to `to` in the new lock, then what
  // it needs (kept at the same relative nesting).
  const copy = (from: string, to: string): void => {
    if (out[to]) return;
    const entry = lock.packages[from]!;
    out[to] = clean(entry, from);
    needs(entry, from, to);
  };
  const needs = (entry: LockEntry, from: string, to: string): void => {
    const wanted = {
      ...entry.dependencies,
      ...entry.optionalDependencies,
      ...Object.fromEntries(
        Object.entries(entry.peerDependencies ?? {}).filter(
          ([name]) => !entry.peerDependenciesMeta?.[name]?.optional,
        ),
      ),
    };
    for (const name of Object.keys(wanted)) {
      if (direct[name]) continue;
      const found = find(from, name);
      if (!found) continue; // an optional dependency for another platform
      const nested = found.startsWith(`${from}/node_modules/`);
      let target = nested ? `${to}${found.slice(from.length)}` : `node_modules/${name}`;
      const taken = out[target];
      if (taken && taken.version !== lock.packages[found]!.version) {
        target = `${to}/node_modules/${name}`;
      }
      copy(found, target);
    }
  };
  for (const [name, source] of Object.entries(direct)) {
    const to = `node_modules/${name}`;
    if ("lock" in source) {
      const entry = lock.packages[source.lock];
      if (!entry) throw new Error(`${source.lock} is not in this repository's package-lock.json`);
      out[to] = clean(entry, source.lock);
      needs(entry, source.lock, to);
    } else {
      const { manifest } = source;
      out[to] = {
        version: manifest.version,
        resolved: `file:${source.tarball}`,
        integrity: source.integrity,
        ...(manifest.dependencies ? { dependencies: manifest.dependencies } : {}),
        ...(manifest.peerDependencies ? { peerDependencies: manifest.peerDependencies } : {}),
        ...(manifest.peerDependenciesMeta
          ? { peerDependenciesMeta: manifest.peerDependenciesMeta }
          : {}),
        ...(manifest["bin"] ? { bin: manifest["bin"] } : {}),
        ...(manifest["engines"] ? { engines: manifest["engines"] } : {}),
        ...(manifest["license"] ? { license: manifest["license"] } : {}),
      };
      needs(manifest, "", to);
    }
  }
  return {
    name: project.name,
    version: "1.0.0",
    lockfileVersion: 3,
    requires: true,
    packages: out,
  };
}

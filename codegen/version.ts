import { readFileSync } from "node:fs";

/** The names of the packages repid-gen ships in: its own, or repid's (in a checkout). */
const PACKAGES = new Set(["repid-gen", "repid"]);

/**
 * The version of the package the module at `moduleUrl` ships in, or `"unknown"`: the first of
 * `../package.json` and `../../package.json` (relative to the module) named `repid-gen` or
 * `repid`. That finds packages/repid-gen/package.json from the packed
 * packages/repid-gen/dist/codegen/cli.js, and repid's package.json from codegen/cli.ts (the
 * sources) or dist/codegen/cli.js. A package.json of another name (a dist/package.json that only
 * sets the module type) is passed over.
 */
export function packageVersion(moduleUrl: URL | string): string {
  for (const path of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, moduleUrl), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (typeof pkg.name === "string" && PACKAGES.has(pkg.name) && typeof pkg.version === "string")
        return pkg.version;
    } catch {
      // Not there, or not JSON: try the next place.
    }
  }
  return "unknown";
}

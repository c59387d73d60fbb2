import { createRequire } from "node:module";
import { PeerDependencyError } from "./errors.js";

/**
 * Throws `PeerDependencyError` unless `version` (of the installed zod) is 4.x. Generated
 * registries use zod 4's API: on zod 3 they would fail with type errors and `undefined` reads
 * that do not say why.
 */
export function checkZodVersion(version: string | undefined, where = "zod"): void {
  if (version === undefined) return;
  const major = Number(version.split(".")[0]);
  if (major === 4) return;
  throw new PeerDependencyError(
    "zod",
    `repid needs zod 4, but ${where} is zod ${version}. Generated registries use zod 4's API: ` +
      "install it with `npm install zod@^4`.",
  );
}

// Checked when repid loads, before a generated registry (which imports repid first) runs.
// Without zod installed nothing is checked: repid itself loads zod only through your schemas.
const require = createRequire(import.meta.url);
let installed: { version?: string; path?: string } = {};
try {
  const path = require.resolve("zod/package.json");
  installed = { version: (require(path) as { version?: string }).version, path };
} catch {
  installed = {};
}
checkZodVersion(installed.version, installed.path);

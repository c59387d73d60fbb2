#!/usr/bin/env node
// repid-gen: generates the typed registry of a repid project. It runs on ts-morph's own
// TypeScript, so the project's `typescript` (any version, or none) is not used.
import module, { createRequire } from "node:module";

// Node 22.1+ keeps V8's compiled code of ts-morph's bundled compiler between runs (about a third
// of a cold start); older Nodes have no such cache and skip this.
module.enableCompileCache?.();

const require = createRequire(import.meta.url);
const missing = ["repid", "zod"].filter((name) => {
  try {
    require.resolve(`${name}/package.json`, { paths: [process.cwd()] });
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  process.stderr.write(
    `repid-gen: the generated registry imports ${missing.join(" and ")}, which this project does not have.\n` +
      `Install the runtime beside it:\n\n  npm install ${missing.join(" ")}\n`,
  );
  process.exit(1);
}
await import("../dist/codegen/cli.js");

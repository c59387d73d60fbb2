#!/usr/bin/env node
// repid-gen: generates the typed registry of a repid project. It runs on ts-morph's own
// TypeScript, so the project's `typescript` (any version, or none) is not used.
import { createRequire } from "node:module";

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

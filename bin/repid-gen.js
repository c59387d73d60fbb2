#!/usr/bin/env node
// Runs repid-gen: from the TypeScript sources through tsx in a checkout, or from dist/ when built.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = new URL("../codegen/cli.ts", import.meta.url);
const built = new URL("../dist/codegen/cli.js", import.meta.url);

if (existsSync(fileURLToPath(source))) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import(built.href);
}

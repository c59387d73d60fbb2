#!/usr/bin/env node
// repid-gen in this repository: runs the generator's TypeScript sources through tsx, resolving
// `repid` to the sources too (the `repid-source` condition), so nothing needs building first.
// The published command is packages/repid-gen/bin/repid-gen.js, which runs the built files.
import { register } from "node:module";

const { register: registerTsx } = await import("tsx/esm/api");
registerTsx();
if (
  !process.execArgv.join(" ").includes("repid-source") &&
  !process.env.NODE_OPTIONS?.includes("repid-source")
) {
  register(
    "data:text/javascript," +
      encodeURIComponent(
        'export function resolve(specifier, context, next) { return next(specifier, { ...context, conditions: [...context.conditions, "repid-source"] }); }',
      ),
  );
}
await import(new URL("../codegen/cli.ts", import.meta.url).href);

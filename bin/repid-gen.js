#!/usr/bin/env node
// Runs repid-gen: from the TypeScript sources through tsx in a checkout, or from dist/ when built.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const source = new URL("../codegen/cli.ts", import.meta.url);
const built = new URL("../dist/codegen/cli.js", import.meta.url);

if (existsSync(fileURLToPath(source))) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  checkPeers();
  await import(built.href);
}

// typescript is an optional peer dependency, so that a producer or a worker installed with
// --omit=dev does not carry it; repid-gen, a development tool, names what is missing.
function checkPeers() {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  const require = createRequire(import.meta.url);
  const problems = [];
  for (const name of ["typescript", "zod"]) {
    const range = pkg.peerDependencies[name];
    let version;
    try {
      version = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
    } catch {
      problems.push({ name, range, found: undefined });
      continue;
    }
    const [wantedMajor, wantedMinor] = /(\d+)\.(\d+)/.exec(range).slice(1).map(Number);
    const [major, minor] = version.split(".").map(Number);
    const tooOld = major < wantedMajor || (major === wantedMajor && minor < wantedMinor);
    // ">=" ranges take any later major; "^" ranges only the same one.
    if (range.startsWith(">=") ? tooOld : major !== wantedMajor || tooOld)
      problems.push({ name, range, found: version });
  }
  if (problems.length === 0) return;
  const describe = (p) => (p.found ? `${p.name} ${p.range} (found ${p.found})` : p.name);
  const command = (list, flag) =>
    `  npm install ${flag}${list.map((p) => `"${p.name}@${p.range}"`).join(" ")}\n`;
  const tools = problems.filter((p) => p.name !== "zod");
  const zod = problems.filter((p) => p.name === "zod");
  process.stderr.write(
    `repid-gen needs ${problems
      .map(describe)
      .join(", ")
      .replace(/, ([^,]*)$/, " and $1")}.\n` +
      (tools.length
        ? "typescript is an optional peer dependency of repid (a producer or a worker does not " +
          "need it); install it as a development dependency:\n\n" +
          command(tools, "--save-dev ")
        : "") +
      (zod.length
        ? `${tools.length ? "\n" : ""}zod is repid's peer dependency:\n\n${command(zod, "")}`
        : ""),
  );
  process.exit(1);
}

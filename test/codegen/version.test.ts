import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { packageVersion } from "../../codegen/version.js";

/** A folder holding `files` (path → package.json object); returns a module URL under it. */
function layout(files: Record<string, object>, module: string): URL {
  const dir = mkdtempSync(join(tmpdir(), "repid-gen-version-"));
  for (const [path, pkg] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), JSON.stringify(pkg));
  }
  return pathToFileURL(join(dir, module));
}

describe("repid-gen --version (issue 23)", () => {
  it("reads the repid-gen package it ships in (packages/repid-gen/dist/codegen/cli.js)", () => {
    const url = layout(
      {
        "package.json": { name: "repid", version: "1.0.0" },
        "packages/repid-gen/package.json": { name: "repid-gen", version: "2.3.4" },
        // A dist/package.json that only sets the module type names no package.
        "packages/repid-gen/dist/package.json": { type: "module" },
      },
      "packages/repid-gen/dist/codegen/cli.js",
    );
    expect(packageVersion(url)).toBe("2.3.4");
  });

  it("reads repid's package.json from the sources (codegen/cli.ts) and from dist/codegen/cli.js", () => {
    const files = { "package.json": { name: "repid", version: "0.9.0" } };
    expect(packageVersion(layout(files, "codegen/cli.ts"))).toBe("0.9.0");
    expect(packageVersion(layout(files, "dist/codegen/cli.js"))).toBe("0.9.0");
  });

  it("skips a package.json of another name, and says unknown when none is found", () => {
    const other = { "package.json": { name: "user-project", version: "5.0.0" } };
    expect(packageVersion(layout(other, "codegen/cli.ts"))).toBe("unknown");
  });
});

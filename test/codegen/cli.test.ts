import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

function cli(args: string[]): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, [join(ROOT, "bin/repid-gen.js"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { status: run.status, stderr: run.stderr };
}

describe("repid-gen CLI", () => {
  it("--check passes on the committed example registry (CI drift check)", () => {
    const run = cli(["--check"]);
    expect(run.stderr).toMatch(
      /4 actor\(s\) in \d+ file\(s\), \d+ ms .*example-app\/generated\/registry\.ts is up to date/,
    );
    expect(run.status).toBe(0);
  });

  it("--check exits 1 and names the stale file", () => {
    const dir = mkdtempSync(join(tmpdir(), "repid-gen-cli-"));
    const out = join(dir, "registry.ts");
    copyFileSync(join(ROOT, "example-app/generated/registry.ts"), out);
    writeFileSync(out, readFileSync(out, "utf8").replace('queue: "emails"', 'queue: "mail"'));
    const run = cli(["--check", "--out", out]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("registry.ts is stale: run `npx repid-gen` to regenerate it");
    expect(readFileSync(out, "utf8")).toContain('queue: "mail"');
  });

  it("prints codegen errors as file:line:col and exits 1", () => {
    const run = cli([
      "--actors",
      "test/codegen/fixtures/errors/bigint.err.ts",
      "--out",
      join(tmpdir(), "never.ts"),
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'test/codegen/fixtures/errors/bigint.err.ts:3:47: actor "big": args.n is a bigint, which is not a JSON value',
    );
  });

  it("validates the configuration with zod", () => {
    const dir = mkdtempSync(join(tmpdir(), "repid-gen-cfg-"));
    writeFileSync(
      join(dir, "repid.config.json"),
      JSON.stringify({ actors: [], output: "x.js", extra: 1 }),
    );
    const run = cli(["--cwd", dir]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^repid\.config\.json:1:1: invalid repid-gen configuration: .*actors.*output.*extra/s,
    );
  });
});

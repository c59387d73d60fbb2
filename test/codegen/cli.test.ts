import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI_OPTIONS, configSchema } from "../../codegen/config.js";
import { cli, stderrSeen, userProject } from "./cli-run.js";
import { ROOT } from "./helpers.js";

describe("repid-gen CLI", () => {
  it("--check passes on the committed example registry (CI drift check)", () => {
    const run = cli(["--check"]);
    expect(run.stderr).toMatch(
      /4 actor\(s\) in \d+ file\(s\), \d+ ms; example-app\/generated\/registry\.ts is up to date/,
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
    // The command to regenerate that file keeps the flags that named it (issue 23).
    expect(run.stderr).toContain(
      `registry.ts is stale: run \`npx repid-gen --out ${out}\` to regenerate it`,
    );
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
      /^repid\.config\.json:1:1: invalid repid-gen configuration: .*actors.*out.*extra/s,
    );
  });

  it("--version prints the package version", () => {
    const run = cli(["--version"]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(run.stdout).toBe(`${pkg.version}\n`);
    expect(run.status).toBe(0);
  });

  it("config keys and flags have the same names, and give the same output", () => {
    const keys = Object.keys(configSchema.shape);
    expect(keys).toEqual(["actors", "out", "tsconfig", "allowAny", "asyncapi"]);
    for (const key of keys) expect(Object.keys(CLI_OPTIONS)).toContain(key);
    const fromFile = userProject({ actors: ["actors/*.ts"], out: "gen.ts", allowAny: true });
    const fromFlags = userProject();
    const a = cli(["--cwd", fromFile]);
    const b = cli(["--cwd", fromFlags, "--actors", "actors/*.ts", "--out", "gen.ts", "--allowAny"]);
    expect([a.status, b.status]).toEqual([0, 0]);
    for (const run of [a, b])
      expect(run.stderr).toContain(
        'actors/keep.ts:4:60: warning: actor "keep": args.extra is `any`: accepted unchecked (z.any()) because of --allow-any',
      );
    // The same bytes, banner included (issue 23).
    const text = (dir: string) => readFileSync(join(dir, "gen.ts"), "utf8");
    expect(text(fromFlags)).toBe(text(fromFile));
  });

  it("--watch regenerates when a file the actors import changes (issue 17, 11)", async () => {
    const dir = userProject({ actors: ["actors/*.ts"], out: "gen.ts", allowAny: true });
    const child = spawn(process.execPath, [join(ROOT, "bin/repid-gen.js"), "--watch"], {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    try {
      await stderrSeen(child, "watching for changes", 1);
      expect(readFileSync(join(dir, "gen.ts"), "utf8")).not.toContain("price");
      writeFileSync(
        join(dir, "types/item.ts"),
        "export interface Item {\n  sku: string;\n  price: number;\n}\n",
      );
      await stderrSeen(child, "wrote gen.ts", 1);
      expect(readFileSync(join(dir, "gen.ts"), "utf8")).toContain("price: z.number()");
    } finally {
      child.kill();
    }
  }, 60_000);
});

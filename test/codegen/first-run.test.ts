import { existsSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../codegen/config.js";
import { BANNER, PLAIN_ACTOR, cli, userProject } from "./cli-run.js";

/**
 * Issue 23, a first run that works: flags once, then the config they wrote; the same file
 * whether generated from flags or from the config; the asyncapi output as a config key.
 */
const read = (dir: string, file: string) => readFileSync(join(dir, file), "utf8");
const lines = (text: string) => text.trimEnd().split("\n");

describe("repid-gen without a config (issue 23)", () => {
  it("with no config and no flags, points at `npx repid-gen init`, prints the help and exits 1", () => {
    const run = cli([], mkdtempSync(join(tmpdir(), "repid-gen-empty-")));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^repid-gen: no repid\.config\.json in .*npx repid-gen init/);
    expect(run.stderr).toContain("Usage: repid-gen");
    expect(run.stderr).not.toContain("invalid repid-gen configuration");
  });

  it("a first run with --actors and --out writes repid.config.json, says so in one line, and later commands need no flags", () => {
    const dir = userProject(undefined, PLAIN_ACTOR);
    const first = cli(["--actors", "actors/*.ts", "--out", "gen/registry.ts"], dir);
    expect(first.status).toBe(0);
    expect(JSON.parse(read(dir, "repid.config.json"))).toEqual({
      actors: ["actors/*.ts"],
      out: "gen/registry.ts",
      tsconfig: "tsconfig.json",
    });
    expect(lines(first.stderr)).toHaveLength(2);
    expect(first.stderr).toMatch(/^repid-gen: wrote repid\.config\.json .*npx repid-gen/m);
    expect(read(dir, "gen/registry.ts")).toContain("keep");

    const check = cli(["--check"], dir);
    expect(check.stderr).toContain("gen/registry.ts is up to date");
    expect(check.status).toBe(0);
    const compat = cli(["--compat", "gen/registry.ts"], dir);
    expect(compat.status).toBe(0);
    const asyncapi = cli(["--asyncapi", "api.json"], dir);
    expect(asyncapi.status).toBe(0);
    expect(JSON.parse(read(dir, "api.json"))).toMatchObject({ asyncapi: "3.0.0" });
    // The config was written once: later runs with flags leave it as it is.
    expect(JSON.parse(read(dir, "repid.config.json"))).not.toHaveProperty("asyncapi");
  });

  it("a first run records every flag it used (allowAny, asyncapi); --check writes no config", () => {
    const dir = userProject();
    const flags = [
      "--actors",
      "actors/*.ts",
      "--out",
      "gen.ts",
      "--allowAny",
      "--asyncapi",
      "api.json",
    ];
    const check = cli(["--check", ...flags], dir);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(
      'gen.ts is stale: run `npx repid-gen --actors "actors/*.ts" --out gen.ts --allowAny --asyncapi api.json`',
    );
    expect(existsSync(join(dir, "repid.config.json"))).toBe(false);
    expect(cli(flags, dir).status).toBe(0);
    expect(JSON.parse(read(dir, "repid.config.json"))).toEqual({
      actors: ["actors/*.ts"],
      out: "gen.ts",
      tsconfig: "tsconfig.json",
      allowAny: true,
      asyncapi: "api.json",
    });
    expect(cli(["--check"], dir).status).toBe(0);
  });
});

describe("repid-gen flags and config alike (issue 23)", () => {
  it("a file generated with flags is fresh under the equivalent config, and the other way round; the banner names no flag", () => {
    const fromFlags = userProject();
    const flags = ["--actors", "actors/*.ts", "--out", "gen.ts", "--allowAny"];
    expect(cli(flags, fromFlags).status).toBe(0);
    expect(lines(read(fromFlags, "gen.ts"))[0]).toBe(BANNER);
    // Under the config the first run wrote.
    expect(cli(["--check"], fromFlags).status).toBe(0);

    const fromConfig = userProject({ actors: ["actors/*.ts"], out: "gen.ts", allowAny: true });
    expect(cli([], fromConfig).status).toBe(0);
    expect(read(fromConfig, "gen.ts")).toBe(read(fromFlags, "gen.ts"));
    // A project without a config checks the config-generated file with flags alone.
    const noConfig = userProject();
    writeFileSync(join(noConfig, "gen.ts"), read(fromConfig, "gen.ts"));
    const check = cli(["--check", ...flags], noConfig);
    expect(check.stderr).toContain("gen.ts is up to date");
    expect(check.status).toBe(0);
  });

  it("names --config in the banner only for a config file other than the default", () => {
    const dir = userProject({ actors: ["actors/*.ts"], out: "gen.ts", allowAny: true });
    expect(cli(["--config", "repid.config.json"], dir).status).toBe(0);
    expect(lines(read(dir, "gen.ts"))[0]).toBe(BANNER);
    writeFileSync(join(dir, "other.json"), read(dir, "repid.config.json"));
    const run = cli(["--config", "other.json"], dir);
    expect(run.status).toBe(0);
    expect(lines(read(dir, "gen.ts"))[0]).toBe(
      BANNER.replace("`npx repid-gen`", "`npx repid-gen --config other.json`"),
    );
  });

  it("a first run with --config writes that file, its paths relative to its folder", () => {
    const dir = userProject(undefined, PLAIN_ACTOR);
    const flags = ["--config", "tools/gen.json", "--actors", "actors/*.ts", "--out", "gen.ts"];
    expect(cli(flags, dir).status).toBe(0);
    expect(JSON.parse(read(dir, "tools/gen.json"))).toEqual({
      actors: ["../actors/*.ts"],
      out: "../gen.ts",
      tsconfig: "../tsconfig.json",
    });
    expect(lines(read(dir, "gen.ts"))[0]).toBe(
      BANNER.replace("`npx repid-gen`", "`npx repid-gen --config tools/gen.json`"),
    );
    expect(cli(["--config", "tools/gen.json", "--check"], dir).status).toBe(0);
  });

  it("decides staleness by content: a digest line that alone differs (another checkout, another prettier) is not stale, nor rewritten", () => {
    const dir = userProject({ actors: ["actors/*.ts"], out: "gen.ts", allowAny: true });
    expect(cli([], dir).status).toBe(0);
    const text = read(dir, "gen.ts").replace(
      /^(\/\/ repid-gen digest: )[0-9a-f]{16}/m,
      "$10123456789abcdef",
    );
    writeFileSync(join(dir, "gen.ts"), text);
    const check = cli(["--check"], dir);
    expect(check.stderr).toContain("gen.ts is up to date");
    expect(check.status).toBe(0);
    expect(cli([], dir).stderr).toContain("gen.ts is up to date");
    expect(read(dir, "gen.ts")).toBe(text);
  });

  it("writes the configured asyncapi document, and --check finds it stale when it differs or is missing", () => {
    const dir = userProject(
      { actors: ["actors/*.ts"], out: "gen.ts", asyncapi: "api.json" },
      PLAIN_ACTOR,
    );
    const run = cli([], dir);
    expect(run.status).toBe(0);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/wrote gen\.ts.*wrote api\.json/);
    const doc = JSON.parse(read(dir, "api.json")) as { asyncapi: string; operations: object };
    expect(doc.asyncapi).toBe("3.0.0");
    expect(Object.keys(doc.operations)).toEqual(["keep"]);
    expect(cli(["--check"], dir).status).toBe(0);

    writeFileSync(join(dir, "api.json"), read(dir, "api.json").replace('"keep"', '"kept"'));
    const stale = cli(["--check"], dir);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain("api.json is stale: run `npx repid-gen` to regenerate it");
    unlinkSync(join(dir, "api.json"));
    expect(cli(["--check"], dir).status).toBe(1);
    expect(cli([], dir).status).toBe(0);
    expect(cli(["--check"], dir).status).toBe(0);
  });
});

describe("repid-gen output (issue 23)", () => {
  it("prints one line by default, and each phase's time with --verbose", () => {
    const dir = userProject({ actors: ["actors/*.ts"], out: "gen.ts" }, PLAIN_ACTOR);
    const plain = cli([], dir);
    expect(plain.status).toBe(0);
    expect(lines(plain.stderr)).toEqual([
      expect.stringMatching(/^repid-gen: 1 actor\(s\) in 1 file\(s\), \d+ ms; wrote gen\.ts$/),
    ]);
    const verbose = cli(["--verbose"], dir);
    expect(verbose.status).toBe(0);
    expect(verbose.stderr).toMatch(
      /load \d+ ms, scan \d+ ms, emit \d+ ms, format \d+ ms, write \d+ ms/,
    );
    expect(verbose.stderr).toContain("repid.config.json");
    const check = cli(["--check", "--verbose"], dir);
    expect(check.stderr).toMatch(/format \d+ ms, check \d+ ms/);
  });

  it("--help names init, every config key, and that a first run with flags writes the config", () => {
    const run = cli(["--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("repid-gen init");
    for (const key of Object.keys(configSchema.shape)) expect(run.stdout).toContain(`"${key}"`);
    expect(run.stdout).toContain('"asyncapi"');
    expect(run.stdout).toMatch(/first run .*writes/);
    for (const flag of ["--force", "--verbose"]) expect(run.stdout).toContain(flag);
  });
});

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectProject } from "../../codegen/init.js";
import { tempProject } from "../types/temp-project.js";
import { cli } from "./cli-run.js";

/** `repid-gen init` (issue 23): a config chosen by looking at the project. */

const actorFile = (name: string) => `import { Router } from "repid";

export const router = new Router();
router.actor(async function ${name}(args: { id: string }) {
  return args.id;
});
`;

/** Writes `files` (path → text) under `dir`. */
function write(dir: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const config = (dir: string, file = "repid.config.json") =>
  JSON.parse(readFileSync(join(dir, file), "utf8")) as unknown;

describe("repid-gen init", () => {
  it("finds the actor files, writes a config covering them, says so; a plain run then generates", () => {
    const dir = write(tempProject({}), {
      "src/actors/email.ts": actorFile("send_email"),
      "src/actors/billing/charge.ts": actorFile("charge_card"),
      "src/lib/util.ts": "export const actor = { actor: (x: number) => x };\nactor.actor(1);\n",
      "test/email.test.ts": actorFile("in_a_test"),
    });
    const run = cli(["init"], dir);
    expect(run.status).toBe(0);
    expect(config(dir)).toEqual({
      actors: ["src/actors/**/*.ts"],
      out: "src/generated/registry.ts",
      tsconfig: "tsconfig.json",
    });
    expect(run.stderr).toMatch(
      /^repid-gen: wrote repid\.config\.json: actors "src\/actors\/\*\*\/\*\.ts" \(2 actor files found\), out src\/generated\/registry\.ts, tsconfig tsconfig\.json/,
    );
    expect(run.stderr).toContain("npx repid-gen");

    const gen = cli([], dir);
    expect(gen.stderr).toContain("2 actor(s) in 2 file(s)");
    expect(gen.status).toBe(0);
    expect(readFileSync(join(dir, "src/generated/registry.ts"), "utf8")).toContain("charge_card");
    // The generated module is not taken for an actor file on the next init.
    expect(cli(["init", "--force"], dir).status).toBe(0);
    expect(config(dir)).toMatchObject({ actors: ["src/actors/**/*.ts"] });
  });

  it("without actor files, writes the default config and says so", () => {
    const dir = tempProject({});
    const run = cli(["init"], dir);
    expect(run.status).toBe(0);
    expect(config(dir)).toEqual({
      actors: ["src/actors/**/*.ts"],
      out: "src/generated/registry.ts",
      tsconfig: "tsconfig.json",
    });
    expect(run.stderr).toMatch(/^repid-gen: no actor files found .*; wrote repid\.config\.json/);
  });

  it("refuses to overwrite a config unless --force; flags choose actors, out and tsconfig", () => {
    const dir = tempProject({});
    writeFileSync(join(dir, "repid.config.json"), '{"actors":["a/*.ts"],"out":"a.ts"}');
    const refused = cli(["init"], dir);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^repid\.config\.json:1:1: .*already exists.*--force/);
    expect(config(dir)).toEqual({ actors: ["a/*.ts"], out: "a.ts" });

    const flags = [
      "--actors",
      "jobs/**/*.ts",
      "--out",
      "out/jobs.ts",
      "--tsconfig",
      "tsconfig.app.json",
    ];
    const forced = cli(["init", "--force", ...flags], dir);
    expect(forced.status).toBe(0);
    expect(config(dir)).toEqual({
      actors: ["jobs/**/*.ts"],
      out: "out/jobs.ts",
      tsconfig: "tsconfig.app.json",
    });
    expect(cli(["init", "--config", "other.json", ...flags], dir).status).toBe(0);
    expect(config(dir, "other.json")).toMatchObject({ out: "out/jobs.ts" });
  });

  it("rejects unknown commands and mode flags with init", () => {
    const dir = mkdtempSync(join(tmpdir(), "repid-gen-init-"));
    expect(cli(["int"], dir).stderr).toContain('unknown command "int"');
    expect(cli(["init", "--check"], dir).stderr).toContain("--check");
    expect(cli(["--force"], dir).stderr).toContain("--force");
  });
});

describe("detectProject", () => {
  const project = (files: Record<string, string>) =>
    write(mkdtempSync(join(tmpdir(), "repid-gen-detect-")), files);

  it("takes the folder the actor files share, and puts the output beside it", () => {
    const dir = project({
      "example-app/actors/a.ts": actorFile("a"),
      "example-app/actors/deep/b.ts": actorFile("b"),
      "node_modules/lib/c.ts": actorFile("c"),
      ".cache/d.ts": actorFile("d"),
      "example-app/actors/e.d.ts": actorFile("e"),
      "example-app/e2e/f.ts": actorFile("f"),
    });
    expect(detectProject(dir)).toEqual({
      actorFiles: ["example-app/actors/a.ts", "example-app/actors/deep/b.ts"],
      actors: ["example-app/actors/**/*.ts"],
      out: "example-app/generated/registry.ts",
    });
  });

  it("one glob per top folder when they share none; the output is excluded when a glob covers it", () => {
    expect(
      detectProject(project({ "jobs/a.ts": actorFile("a"), "workers/b.tsx": actorFile("b") })),
    ).toMatchObject({
      actors: ["jobs/**/*.ts", "workers/**/*.tsx"],
      out: "src/generated/registry.ts",
    });
    expect(
      detectProject(project({ "src/a.ts": actorFile("a"), "src/jobs/b.ts": actorFile("b") })),
    ).toMatchObject({
      actors: ["src/**/*.ts", "!src/generated/registry.ts"],
      out: "src/generated/registry.ts",
    });
    expect(detectProject(project({ "packages/w/src/actors/a.ts": actorFile("a") }))).toMatchObject({
      actors: ["packages/w/src/actors/**/*.ts"],
      out: "packages/w/src/generated/registry.ts",
    });
  });

  it("finds nothing in files that do not import repid, or do not call .actor(", () => {
    const dir = project({
      "src/a.ts": 'import { Router } from "other";\nnew Router().actor(async function a() {});\n',
      "src/b.ts": 'import { Router } from "repid";\nexport const r = new Router();\n',
    });
    expect(detectProject(dir)).toEqual({ actorFiles: [], actors: undefined, out: undefined });
  });
});

/**
 * Registry evolution, at generation time (issue 16): three versions of one actor project (v1; v2
 * with safe changes; v3 with breaking ones and an upcaster for v1), their generated registries
 * as goldens, and golden `--compat` reports between them, from the library and from the CLI
 * (against a file and against a git revision). UPDATE_GOLDEN=1 rewrites the goldens.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readManifest } from "../../codegen/compat/manifest.js";
import { currentActors } from "../../codegen/compat/previous.js";
import { Generator } from "../../codegen/generate.js";
import { options } from "../codegen/helpers.js";
import { compareRegistries, compatTable } from "../../codegen/compat/report.js";
import { tempProject } from "../types/temp-project.js";
import {
  ROOT,
  VERSIONS,
  actorsOf,
  committedManifest,
  registryPath,
  renderVersion,
  type Version,
} from "./helpers.js";

const UPDATE = Boolean(process.env["UPDATE_GOLDEN"]);

function golden(path: string, text: string): void {
  if (UPDATE) writeFileSync(join(ROOT, path), text);
  expect(text).toBe(readFileSync(join(ROOT, path), "utf8"));
}

function cli(args: string[], cwd = ROOT) {
  const run = spawnSync(process.execPath, [join(ROOT, "bin/repid-gen.js"), ...args], {
    cwd,
    encoding: "utf8",
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The golden report of `from` → `to`, as the library and the CLI print it. */
const REPORTS: readonly { from: Version; to: Version; accept?: string; file: string }[] = [
  { from: "v1", to: "v2", file: "v1-to-v2.txt" },
  { from: "v2", to: "v3", file: "v2-to-v3.txt" },
  { from: "v1", to: "v3", file: "v1-to-v3.txt" },
  { from: "v1", to: "v3", accept: "legacy_ping", file: "v1-to-v3-accepted.txt" },
];

describe("registry evolution: fingerprints and --compat (issue 16)", () => {
  for (const version of VERSIONS) {
    it(`generates ${registryPath(version)}`, async () => {
      golden(registryPath(version), (await renderVersion(version)).text);
    });
  }

  it("fingerprints ignore order, layout and type names, and change with the wire shape", () => {
    const fp = (v: Version, actor: string) => committedManifest(v).actors[actor]?.fingerprint;
    // v2 writes `resize` with its fields swapped and `welcome`'s options in another order.
    expect(fp("v2", "resize")).toBe(fp("v1", "resize"));
    expect(fp("v3", "resize")).toBe(fp("v1", "resize"));
    expect(fp("v2", "legacy_ping")).toBe(fp("v1", "legacy_ping"));
    expect(fp("v3", "make_thumbnail")).toBe(fp("v2", "thumbnail"));
    const welcome = VERSIONS.map((v) => fp(v, "welcome"));
    expect(new Set(welcome).size).toBe(3);
    for (const f of welcome) expect(f).toMatch(/^[0-9a-f]{12}$/);
    // The registry entry and the manifest agree.
    const text = readFileSync(join(ROOT, registryPath("v3")), "utf8");
    expect(text).toContain(`fingerprint: "${fp("v3", "welcome")}",`);
  });

  for (const { from, to, accept, file } of REPORTS) {
    it(`reports ${from} → ${to}${accept ? ` with --accept ${accept}` : ""} (test/evolution/expected/${file})`, async () => {
      const report = compareRegistries(committedManifest(from), await actorsOf(to), {
        ...(accept ? { accept: [accept] } : {}),
      });
      golden(`test/evolution/expected/${file}`, compatTable(report, registryPath(from)));
    });
  }

  it("verdicts: v1→v2 passes (workers first), v2→v3 fails, v1→v3 fails until the removal is accepted", async () => {
    const verdict = async (from: Version, to: Version, accept: string[] = []) => {
      const r = compareRegistries(committedManifest(from), await actorsOf(to), { accept });
      return [r.ok, r.rollout];
    };
    expect(await verdict("v1", "v2")).toEqual([true, "workers first"]);
    expect(await verdict("v2", "v3")).toEqual([false, "workers first"]);
    expect(await verdict("v1", "v3")).toEqual([false, "workers first"]);
    expect(await verdict("v1", "v3", ["legacy_ping"])).toEqual([true, "workers first"]);
  });

  it("refuses an upcaster whose parameter type cannot take the old version's arguments", async () => {
    const actors = (await actorsOf("v3")).map((a) =>
      a.name !== "welcome"
        ? a
        : {
            ...a,
            upcasts: a.upcasts.map((u) => ({
              ...u,
              // `(old: { email: string; name: number })`: v1 sends a string name.
              from: {
                k: "object" as const,
                props: [
                  { name: "email", optional: false, type: { k: "string" as const } },
                  { name: "name", optional: false, type: { k: "number" as const } },
                ],
              },
            })),
          },
    );
    const report = compareRegistries(committedManifest("v1"), actors, { accept: ["legacy_ping"] });
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([
      'test/evolution/fixtures/v3/actors.ts:36:7: actor "welcome": the upcaster for fingerprint 9b7766a8d576 declares a parameter type that does not accept that version\'s arguments',
    ]);
    // The fixture's own upcaster declares v1's type: no error.
    const own = compareRegistries(committedManifest("v1"), await actorsOf("v3"));
    expect(own.errors).toEqual([]);
  });

  it("reads an upcaster keyed and typed from a copy of the previous registry", async () => {
    const rendered = await new Generator(
      options(["test/evolution/fixtures/v3-from-registry/actors.ts"], "never-written.ts"),
    ).render();
    const [welcome] = currentActors(rendered.model);
    expect(welcome!.fingerprint).toBe(committedManifest("v3").actors["welcome"]!.fingerprint);
    expect(welcome!.upcasts.map((u) => u.fingerprint)).toEqual(["9b7766a8d576"]);
    const report = compareRegistries(committedManifest("v1"), [welcome!], {
      accept: ["legacy_ping", "resize"],
    });
    expect(report.errors).toEqual([]);
    expect(report.rows.filter((r) => r.actor === "welcome").map((r) => r.verdict)).toEqual([
      "upcast 9b7766a8d576",
      "safe",
      "workers first",
      "upcast 9b7766a8d576, workers first",
    ]);
    expect(report.ok).toBe(true);
  });

  it("CLI: prints the same table, exits 1 on a breaking change and 0 once handled", () => {
    const out = join(mkdtempSync(join(tmpdir(), "repid-compat-")), "registry.ts");
    const v3 = ["--actors", "test/evolution/fixtures/v3/actors.ts", "--out", out];
    const breaking = cli([...v3, "--compat", registryPath("v2")]);
    expect(breaking.stdout).toBe(
      readFileSync(join(ROOT, "test/evolution/expected/v2-to-v3.txt"), "utf8"),
    );
    expect(breaking.status).toBe(1);
    const handled = cli([...v3, "--compat", registryPath("v1"), "--accept", "legacy_ping"]);
    expect(handled.stdout).toBe(
      readFileSync(join(ROOT, "test/evolution/expected/v1-to-v3-accepted.txt"), "utf8"),
    );
    expect(handled.status).toBe(0);
    // The registry itself is written either way.
    expect(readManifest(readFileSync(out, "utf8"), out).actors["welcome"]?.fingerprint).toBe(
      committedManifest("v3").actors["welcome"]?.fingerprint,
    );
  }, 120_000);

  it("CLI: --compat <git revision> reads the output file as committed there", () => {
    // A user's project in its own git repository: v2 committed, then its actors move to v3.
    const dir = tempProject({});
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: dir });
    copyFileSync(join(ROOT, "test/evolution/fixtures/v2/actors.ts"), join(dir, "actors.ts"));
    const gen = ["--actors", "actors.ts", "--out", "registry.ts"];
    expect(cli(gen, dir).status).toBe(0);
    git("init", "-q");
    git("add", "registry.ts");
    git("commit", "-q", "-m", "v2");
    copyFileSync(join(ROOT, "test/evolution/fixtures/v3/actors.ts"), join(dir, "actors.ts"));
    const run = cli([...gen, "--compat", "HEAD"], dir);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      readFileSync(join(ROOT, "test/evolution/expected/v2-to-v3.txt"), "utf8").replace(
        `--compat ${registryPath("v2")}`,
        "--compat HEAD",
      ),
    );
    expect(cli([...gen, "--compat", "no-such-rev"], dir).stderr).toContain(
      "--compat: not a file, and git cannot show no-such-rev:./registry.ts",
    );
  }, 120_000);

  it("the example app's check compares with its committed registry: no schema changes, exit 0", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts["gen:check"]).toBe(
      "node bin/repid-gen.js --check --compat example-app/generated/registry.ts",
    );
    const run = cli(["--check", "--compat", "example-app/generated/registry.ts"]);
    expect(run.stdout).toBe(
      [
        "repid-gen --compat example-app/generated/registry.ts",
        "no schema changes",
        "unchanged: charge_card, count_primes, process_order, send_email",
        "rollout: any order",
        "compat: ok",
        "",
      ].join("\n"),
    );
    expect(run.status).toBe(0);
  }, 120_000);
});

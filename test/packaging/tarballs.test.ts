/**
 * What each tarball holds: what its exports map and bin name, built, and nothing else (no
 * sources, no source maps, no tests but the published suites).
 */
import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { packed, type Tarball, type Tarballs } from "./packages.js";

let tarballs: Tarballs;
beforeAll(async () => {
  tarballs = await packed();
}, 300_000);

function files(tarball: Tarball): string[] {
  return execFileSync("tar", ["-tzf", tarball.path], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ""))
    .sort();
}

/** Every file the exports map and the bin name is in the tarball; `types` comes first. */
function expectEntriesPresent(tarball: Tarball, list: readonly string[]): void {
  const pkg = tarball.manifest as {
    bin?: Record<string, string>;
    exports?: Record<string, unknown>;
  };
  for (const bin of Object.values(pkg.bin ?? {})) expect(list).toContain(bin.replace(/^\.\//, ""));
  for (const [entry, target] of Object.entries(pkg.exports ?? {})) {
    const conditions = typeof target === "string" ? { default: target } : (target as object);
    if (typeof target !== "string") expect(Object.keys(conditions)[0], entry).toBe("types");
    for (const [condition, path] of Object.entries(conditions as Record<string, string>)) {
      if (condition === "repid-source") continue;
      expect(list, `${entry} ${condition}`).toContain(path.slice(2));
    }
  }
}

describe("the tarballs", () => {
  it("repid: the built runtime, the Lua scripts, the keep-alive threads and the repid CLI only", () => {
    const list = files(tarballs.repid);
    const allowed =
      /^(package\.json|README\.md|LICENSE|bin\/repid\.js|dist\/src\/.+\.(js|d\.ts)|src\/brokers\/redis\/scripts\/[\w-]+\.(lua|js)|src\/brokers\/postgres\/threads\/[\w-]+\.js)$/;
    expect(list.filter((f) => !allowed.test(f))).toEqual([]);
    expect(list).toEqual(
      expect.arrayContaining([
        "LICENSE",
        "README.md",
        "bin/repid.js",
        "src/brokers/postgres/threads/keep-alive-thread.js",
      ]),
    );
    expect(list.some((f) => f.startsWith("dist/src/cli/"))).toBe(true);
    expectEntriesPresent(tarballs.repid, list);
    const pkg = tarballs.repid.manifest as unknown as { exports: object; bin: object };
    expect(Object.keys(pkg.exports)).toEqual(
      expect.arrayContaining([
        ".",
        "./redis",
        "./postgres",
        "./testing",
        "./broker",
        "./package.json",
      ]),
    );
    expect(Object.keys(pkg.bin)).toEqual(["repid"]);
  });

  it("repid-gen: the built generator and its command; ts-morph and prettier as dependencies", () => {
    const list = files(tarballs["repid-gen"]);
    const allowed =
      /^(package\.json|README\.md|LICENSE|bin\/repid-gen\.js|dist\/(codegen|templates)\/.+\.js)$/;
    expect(list.filter((f) => !allowed.test(f))).toEqual([]);
    expect(list).toEqual(
      expect.arrayContaining(["dist/codegen/cli.js", "dist/templates/registry-module.js"]),
    );
    expectEntriesPresent(tarballs["repid-gen"], list);
    const pkg = tarballs["repid-gen"].manifest as unknown as {
      dependencies: object;
      version: string;
    };
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["prettier", "ts-morph"]);
    expect(pkg.version).toBe(tarballs.repid.manifest.version);
  });

  it("repid-contract: the built suites and their types", () => {
    const list = files(tarballs["repid-contract"]);
    const allowed =
      /^(package\.json|README\.md|LICENSE|dist\/test\/brokers\/(contract-suites|contract|runtime-contract|admin-contract|limits-contract|limits-runtime|flows-runtime|flow-actors)\.(js|d\.ts))$/;
    expect(list.filter((f) => !allowed.test(f))).toEqual([]);
    expectEntriesPresent(tarballs["repid-contract"], list);
  });
});

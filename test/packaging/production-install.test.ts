/**
 * A service as it is deployed: a project that lists repid, zod and ioredis as dependencies and,
 * like every project, TypeScript, vitest and repid-gen as dev dependencies, installed with
 * `npm ci --omit=dev`. Nothing of the toolchain may come along (npm keeps an optional peer that
 * a project also lists as a dev dependency: "devOptional"), and the runtime still works there.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kib, newProject, removeProjects, npm, packed, sh, type Tarballs } from "./packages.js";

afterAll(removeProjects);

let tarballs: Tarballs;
let service: string;

beforeAll(async () => {
  tarballs = await packed();
  service = await newProject("service", {
    dependencies: {
      repid: tarballs.repid,
      zod: "node_modules/zod",
      ioredis: "node_modules/ioredis",
    },
    devDependencies: {
      "repid-gen": tarballs["repid-gen"],
      typescript: "node_modules/typescript-7",
      vitest: "node_modules/vitest",
      "@types/node": "node_modules/@types/node",
    },
  });
  rmSync(join(service, "node_modules"), { recursive: true });
  await npm(service, ["ci", "--omit=dev"]);
}, 300_000);

/** Every package folder in node_modules (scoped ones as `@scope/name`), nested ones too. */
function installed(dir: string): string[] {
  const names: string[] = [];
  const walk = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith(".")) continue;
      if (entry.startsWith("@")) {
        for (const scoped of readdirSync(join(modules, entry))) {
          names.push(`${entry}/${scoped}`);
          walk(join(modules, entry, scoped, "node_modules"));
        }
      } else {
        names.push(entry);
        walk(join(modules, entry, "node_modules"));
      }
    }
  };
  walk(join(dir, "node_modules"));
  return names.sort();
}

describe("a production install (npm ci --omit=dev) of a service with dev tools listed", () => {
  it("holds the runtime and its dependencies, none of the toolchain, under 5 MB beside zod and ioredis", async () => {
    const names = installed(service);
    for (const tool of [
      "typescript",
      "@typescript/typescript-linux-x64",
      "vitest",
      "vite",
      "rolldown",
      "repid-gen",
      "ts-morph",
      "@ts-morph/common",
      "prettier",
      "@types/node",
    ]) {
      expect(names, tool).not.toContain(tool);
    }
    const runtime = Object.keys(tarballs.repid.manifest["dependencies"] as object);
    expect(names).toEqual(expect.arrayContaining(["repid", "zod", "ioredis", ...runtime]));
    const modules = join(service, "node_modules");
    const beside =
      (await kib(modules)) -
      (await kib(join(modules, "zod"))) -
      (await kib(join(modules, "ioredis")));
    expect(beside, `${beside} KiB beside zod and ioredis`).toBeLessThan(5 * 1024);
  });

  it("runs the runtime and the repid CLI; optional entries name the package they need", async () => {
    const ok = await sh(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const { Job } = await import("repid"); console.log(typeof Job);',
      ],
      service,
    );
    expect(ok.stdout).toBe("function\n");
    const redis = await sh(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const { RedisMessageBroker } = await import("repid/redis"); console.log(typeof RedisMessageBroker);',
      ],
      service,
    );
    expect(redis.stdout).toBe("function\n");
    const cli = await sh(join(service, "node_modules/.bin/repid"), ["--help"], service);
    expect(cli.stdout).toMatch(/^Usage: repid /);
    expect(existsSync(join(service, "node_modules/.bin/repid-gen"))).toBe(false);
    const optionalEntries = {
      "repid/rabbitmq": "amqplib",
      "repid/postgres": "pg",
      "repid/metrics": "prom-client",
      "repid/otel": "@opentelemetry/api",
    };
    for (const [entry, peer] of Object.entries(optionalEntries)) {
      const loaded = await sh(
        process.execPath,
        ["--input-type=module", "-e", `await import(${JSON.stringify(entry)})`],
        service,
      ).then(
        () => "loaded",
        (e: Error) => e.message,
      );
      expect(loaded, entry).toContain(`Cannot find package '${peer}'`);
    }
  });

  it("declares no development tool as a peer (npm would keep it in --omit=dev)", () => {
    const peers = Object.keys((tarballs.repid.manifest["peerDependencies"] as object) ?? {});
    expect(peers.sort()).toEqual([
      "@opentelemetry/api",
      "amqplib",
      "ioredis",
      "pg",
      "prom-client",
      "zod",
    ]);
  });

  it("with zod 3 installed, importing repid fails once, saying to install zod 4", async () => {
    const old = join(service, "..", `${service.split("/").at(-1)}-zod3`);
    cpSync(join(service, "node_modules"), join(old, "node_modules"), { recursive: true });
    const zodPackage = join(old, "node_modules/zod/package.json");
    const pkg = JSON.parse(readFileSync(zodPackage, "utf8"));
    writeFileSync(zodPackage, JSON.stringify({ ...pkg, version: "3.25.76" }));
    const error = await sh(
      process.execPath,
      ["--input-type=module", "-e", 'await import("repid")'],
      old,
    ).then(
      () => "loaded",
      (e: Error) => e.message,
    );
    rmSync(old, { recursive: true, force: true });
    expect(error).toMatch(/PeerDependencyError: repid needs zod 4, but .* is zod 3\.25\.76/);
    expect(error).toMatch(/npm install zod@\^4/);
  });
});

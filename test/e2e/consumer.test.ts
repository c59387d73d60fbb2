/**
 * The package as its users get it. `npm pack` (which builds through `prepack`), then:
 *
 * - a project set up as the README's Install section says (`tsc --init` defaults of TypeScript
 *   5.9, zod 4, no tsx) installs the tarball; every ```ts snippet of the README is written into
 *   it (a snippet opening with `// file: <path>` at that path, the others as `src/readme-<n>.ts`),
 *   repid-gen runs with the README's command, `tsc` compiles everything, and `node` runs each
 *   snippet, and the two Redis services of the README against each other;
 * - a production install (`--omit=dev`) of the tarball and zod stays small and carries none of
 *   the development tools, and repid-gen there says what to install;
 * - zod 3 in place of zod 4 gets one clear error when repid loads.
 *
 * Installs use the versions this repository is tested with, from npm's cache when it has them.
 */
import { execFile, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminClient,
  deletePrefix,
  describeRedis,
  REDIS_URL,
  uniquePrefix,
} from "../brokers/redis-env.js";

const root = new URL("../..", import.meta.url).pathname;
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "repid-consumer-"));
const app = join(work, "app");
const prod = join(work, "prod");
// No repid-source condition here: the user's node resolves repid as published.
const env = { ...process.env, NODE_OPTIONS: "", npm_config_update_notifier: "false" };
const npmFlags = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

const readme = readFileSync(join(root, "README.md"), "utf8");
const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => {
  const code = m[1]!;
  const file = /^\/\/ file: (\S+)\n/.exec(code)?.[1];
  return { code, file: file ?? `src/readme-${i + 1}.ts`, standalone: file === undefined };
});
const generate = /^npx (repid-gen --actors .*)$/m.exec(readme)?.[1];
// The README's Install section, as the project is set up.
const installs = /^npm install (?!--)(.+)$/m.exec(readme)?.[1]?.split(" ") ?? [];
const devInstalls = /^npm install --save-dev (.+)$/m.exec(readme)?.[1]?.split(" ") ?? [];
const tscInit = /^npx tsc (--init .+)$/m.exec(readme)?.[1]?.split(" ") ?? [];

/** The version of a package this repository is tested with. */
function tested(name: string): string {
  return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
}

async function sh(
  command: string,
  args: readonly string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(command, args, { cwd, env: { ...env, ...extraEnv }, timeout: 120_000 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${e.stdout}\n${e.stderr}`);
  }
}

function writePackage(dir: string, pkg: object): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ private: true, type: "module", ...pkg }),
  );
}

/** Disk usage of a directory, in KiB. */
async function kib(path: string): Promise<number> {
  return Number((await sh("du", ["-sk", path], work)).stdout.split("\t")[0]);
}

let tarball: string;

beforeAll(async () => {
  const packed = await sh("npm", ["pack", "--pack-destination", work, "--loglevel=error"], root);
  tarball = join(work, packed.stdout.trim().split("\n").at(-1)!);
  const version = (name: string): string => (name === "repid" ? `file:${tarball}` : tested(name));
  const pinned = (names: readonly string[]) =>
    Object.fromEntries(names.map((name) => [name, version(name)]));
  writePackage(app, {
    name: "consumer-app",
    // ioredis as the README's Redis section says (`npm install ioredis`).
    dependencies: pinned([...installs, "ioredis"]),
    devDependencies: pinned(devInstalls),
  });
  writePackage(prod, {
    name: "consumer-prod",
    dependencies: { repid: `file:${tarball}`, zod: tested("zod") },
  });
  await Promise.all([
    sh("npm", ["install", ...npmFlags], app),
    sh("npm", ["install", "--omit=dev", ...npmFlags], prod),
  ]);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("a new project that installed the packed tarball", () => {
  it("has README snippets to run, and the README's install and repid-gen commands", () => {
    expect(installs).toEqual(["repid", "zod"]);
    expect(devInstalls).toEqual(expect.arrayContaining(["typescript"]));
    expect(tscInit[0]).toBe("--init");
    expect(readme).toContain("`npm install ioredis`");
    expect(snippets.filter((s) => s.standalone).length).toBeGreaterThanOrEqual(6);
    expect(snippets.map((s) => s.file)).toEqual(
      expect.arrayContaining(["src/actors/shop.ts", "src/worker.ts", "src/producer.ts"]),
    );
    expect(generate).toBeDefined();
  });

  it("generates the registry and compiles every snippet with tsc --init's defaults", async () => {
    await sh(join(app, "node_modules/.bin/tsc"), tscInit, app);
    for (const { file, code } of snippets) {
      mkdirSync(dirname(join(app, file)), { recursive: true });
      writeFileSync(join(app, file), code);
    }
    // What must not compile, checked against the published types.
    writeFileSync(
      join(app, "src/consumer-checks.ts"),
      [
        'import { Job } from "repid";',
        'import type { MessageBroker } from "repid/broker";',
        'import { jobs } from "./generated/registry.js";',
        "// @ts-expect-error a duration in words",
        'new Job("x", { timeout: "5 seconds" });',
        'new Job("x", { timeout: "1h30m", deferBy: 250 });',
        "// @ts-expect-error a wrong argument type",
        'void jobs.sendEmail.enqueue({ to: 1, subject: "", body: "" });',
        "export type Contract = MessageBroker;",
        "",
      ].join("\n"),
    );
    const args = generate!
      .split(" ")
      .slice(1)
      .map((a) => a.replace(/^"(.*)"$/, "$1"));
    await sh(join(app, "node_modules/.bin/repid-gen"), args, app);
    const compiled = await sh(join(app, "node_modules/.bin/tsc"), ["-p", "."], app);
    expect(compiled.stdout).toBe("");
  }, 120_000);

  snippets.forEach(({ file, standalone }) => {
    if (!standalone) return;
    it(`runs ${file} with node`, async () => {
      const js = file.replace(/^src\//, "dist/").replace(/\.ts$/, ".js");
      const { stdout } = await sh(process.execPath, [js], app);
      expect(stdout.length).toBeGreaterThan(0);
    }, 60_000);
  });

  it("runs repid/broker's contract suites, as another broker's author would, with vitest", async () => {
    // The repository's vitest stands in for the author's own (an optional peer of repid).
    symlinkSync(join(root, "node_modules/vitest"), join(app, "node_modules/vitest"), "dir");
    writeFileSync(
      join(app, "my-broker.test.mjs"),
      [
        'import { InMemoryMessageBroker } from "repid";',
        "import {",
        "  describeAdminContract,",
        "  describeBrokerContract,",
        "  describeRuntimeContract,",
        '} from "repid/broker";',
        "",
        "const factory = async (options) => {",
        "  const broker = new InMemoryMessageBroker({ ...options, leaseCheckIntervalMs: 50 });",
        "  return { broker, cleanup: () => broker.disconnect() };",
        "};",
        "describeBrokerContract('my broker', factory);",
        "describeAdminContract('my broker', factory);",
        "// The runtime suite opens several connections per test: one broker, as in one process.",
        "let shared;",
        "describeRuntimeContract('my broker', async () => {",
        "  const broker = (shared ??= new InMemoryMessageBroker({ leaseCheckIntervalMs: 50 }));",
        "  const cleanup = async () => {",
        "    if (shared === broker) shared = undefined;",
        "    await broker.disconnect();",
        "  };",
        "  return { broker, cleanup };",
        "});",
        "",
      ].join("\n"),
    );
    const report = join(work, "vitest-report.json");
    await sh(
      process.execPath,
      [
        join(app, "node_modules/vitest/vitest.mjs"),
        "run",
        "--reporter=json",
        `--outputFile=${report}`,
      ],
      app,
    );
    const counts = JSON.parse(readFileSync(report, "utf8"));
    expect(counts.numTotalTests).toBeGreaterThan(20);
    expect(counts.numFailedTests).toBe(0);
    // Tests of what a broker declares it cannot do are skipped for one that can do everything.
    expect(counts.numPassedTests + counts.numPendingTests).toBe(counts.numTotalTests);
    expect(counts.numPassedTests).toBeGreaterThan(counts.numTotalTests - 5);
  }, 120_000);

  describeRedis("the README's worker and producer, two processes on Redis", () => {
    const prefix = uniquePrefix();
    afterAll(async () => {
      const client = adminClient();
      await deletePrefix(client, prefix);
      client.disconnect();
    });

    it("the producer gets its result from the worker; SIGTERM then stops the worker", async () => {
      const extra = { REDIS_URL, REDIS_PREFIX: prefix };
      const worker = spawn(process.execPath, ["dist/worker.js"], {
        cwd: app,
        env: { ...env, ...extra },
      });
      let out = "";
      let log = "";
      worker.stdout.on("data", (d: Buffer) => (out += d.toString()));
      worker.stderr.on("data", (d: Buffer) => (log += d.toString()));
      const exited = new Promise<number | null>((resolve) => worker.on("exit", resolve));
      const producer = await sh(process.execPath, ["dist/producer.js"], app, extra);
      expect(producer.stdout).toMatch(/^sent [0-9a-f]+\n$/);
      worker.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(out, log).toBe("worker stopped after 1 jobs\n");
    }, 60_000);
  });
});

describe("the tarball", () => {
  it("holds what the exports map and the bin name, built, without sources or source maps", async () => {
    const installed = join(app, "node_modules/repid");
    const files = (await sh("find", [".", "-type", "f"], installed)).stdout
      .split("\n")
      .filter(Boolean)
      .map((f) => f.slice(2))
      .sort();
    const allowed =
      /^(package\.json|README\.md|LICENSE|bin\/[\w-]+\.js|dist\/(src|codegen|templates)\/.+\.(js|d\.ts)|dist\/test\/brokers\/(admin-contract|contract|runtime-contract)\.(js|d\.ts)|src\/brokers\/redis\/scripts\/[\w-]+\.(lua|js))$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(["LICENSE", "README.md", "bin/repid-gen.js"]));
    expect(readFileSync(join(installed, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    for (const bin of Object.values(pkg.bin as Record<string, string>)) {
      expect(files).toContain(bin.replace(/^\.\//, ""));
    }
    expect(files.filter((f) => f.startsWith("bin/")).sort()).toEqual(
      Object.values(pkg.bin as Record<string, string>)
        .map((b) => b.replace(/^\.\//, ""))
        .sort(),
    );
    for (const [entry, target] of Object.entries(pkg.exports)) {
      const conditions = typeof target === "string" ? { default: target } : target;
      const keys = Object.keys(conditions as object);
      if (typeof target !== "string") expect(keys[0], entry).toBe("types");
      for (const [condition, path] of Object.entries(conditions as Record<string, string>)) {
        if (condition === "repid-source") continue;
        expect(files, `${entry} ${condition}`).toContain(path.slice(2));
      }
    }
    expect(Object.keys(pkg.exports)).toEqual(
      expect.arrayContaining([".", "./redis", "./testing", "./broker", "./package.json"]),
    );
  });
});

describe("a production install (--omit=dev)", () => {
  it("holds repid, its runtime dependencies and zod: no codegen tools, no optional peers", async () => {
    const installed = (await sh("ls", ["node_modules"], prod)).stdout.split("\n").filter(Boolean);
    const pkg = JSON.parse(readFileSync(join(prod, "node_modules/repid/package.json"), "utf8"));
    const runtime = Object.keys(pkg.dependencies as object);
    expect(installed).toEqual(expect.arrayContaining(["repid", "zod", ...runtime]));
    // The development tools and the optional parts stay out of it.
    const optional = Object.keys(pkg.peerDependenciesMeta as object);
    expect(optional).toEqual(expect.arrayContaining(["ioredis", "typescript"]));
    for (const name of [...optional, "ts-morph", "prettier"]) {
      expect(existsSync(join(prod, "node_modules", name)), name).toBe(false);
    }
    const beside =
      (await kib(join(prod, "node_modules"))) - (await kib(join(prod, "node_modules/zod")));
    expect(beside, `${beside} KiB beside zod`).toBeLessThan(5 * 1024);
  });

  it("runs the runtime and the CLI; the optional entries and repid-gen name what to install", async () => {
    const ok = await sh(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const { Job } = await import("repid"); console.log(typeof Job);',
      ],
      prod,
    );
    expect(ok.stdout).toBe("function\n");
    const cli = await sh(join(prod, "node_modules/.bin/repid"), ["--help"], prod);
    expect(cli.stdout).toMatch(/^Usage: repid /);
    // Each optional part loads its peer dependency only through its own entry point.
    const optionalEntries = {
      "repid/redis": "ioredis",
      "repid/rabbitmq": "amqplib",
      "repid/metrics": "prom-client",
      "repid/otel": "@opentelemetry/api",
    };
    for (const [entry, peer] of Object.entries(optionalEntries)) {
      const loaded = await sh(
        process.execPath,
        ["--input-type=module", "-e", `await import(${JSON.stringify(entry)})`],
        prod,
      ).then(
        () => "loaded",
        (e: Error) => e.message,
      );
      expect(loaded, entry).toContain(`Cannot find package '${peer}'`);
    }
    const gen = await sh(join(prod, "node_modules/.bin/repid-gen"), ["--out", "x.ts"], prod).then(
      () => "ran",
      (e: Error) => e.message,
    );
    expect(gen).toMatch(/repid-gen needs typescript/);
    expect(gen).toMatch(/npm install --save-dev "typescript@>=5\.5\.0"/);
  });

  it("with zod 3 installed, importing repid fails once, saying to install zod 4", async () => {
    const old = join(work, "zod3");
    cpSync(join(prod, "node_modules"), join(old, "node_modules"), { recursive: true });
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
    expect(error).toMatch(/PeerDependencyError: repid needs zod 4, but .* is zod 3\.25\.76/);
    expect(error).toMatch(/npm install zod@\^4/);
  });
});

/**
 * Every ```ts snippet of the README compiles (strict tsc, with the project's settings) and runs
 * as written (with tsx, against the package's sources), exiting 0: the README cannot drift from
 * the code. Snippets are written at the repository root, so that `./example-app/...` resolves.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeRedis } from "../brokers/redis-env.js";

const root = new URL("../..", import.meta.url).pathname;
const readme = readFileSync(join(root, "README.md"), "utf8");
const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const stem = `.readme-${process.pid}`;
const files = snippets.map((_, i) => join(root, `${stem}-snippet-${i + 1}.ts`));
const tsconfig = join(root, `${stem}.tsconfig.json`);
const run = promisify(execFile);
const env = { ...process.env, NODE_OPTIONS: "--conditions=repid-source" };

beforeAll(() => {
  snippets.forEach((code, i) => writeFileSync(files[i]!, code));
  writeFileSync(tsconfig, JSON.stringify({ extends: "./tsconfig.json", include: files }));
});

afterAll(() => {
  for (const file of [...files, tsconfig]) rmSync(file, { force: true });
});

describe("README snippets", () => {
  it("has snippets to check", () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5);
  });

  it("compile with the project's strict settings", async () => {
    const result = await run(join(root, "node_modules/.bin/tsc"), ["-p", tsconfig], {
      cwd: root,
      env,
    }).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe("");
  }, 120_000);

  snippets.forEach((code, i) => {
    const needsRedis = code.includes("RedisMessageBroker");
    (needsRedis ? describeRedis : describe)(`snippet ${i + 1}`, () => {
      it(`runs${needsRedis ? " on Redis" : ""}`, async () => {
        const { stdout } = await run(join(root, "node_modules/.bin/tsx"), [files[i]!], {
          cwd: root,
          timeout: 60_000,
          env,
        });
        expect(typeof stdout).toBe("string");
      });
    });
  });
});

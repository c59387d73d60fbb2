/**
 * Every ```ts snippet of the README runs as written (with tsx, against the package's sources)
 * and exits 0; the README cannot drift from the code.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { describeRedis } from "../brokers/redis-env.js";

const root = new URL("../..", import.meta.url).pathname;
const readme = readFileSync(join(root, "README.md"), "utf8");
const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(join(root, "test/e2e/.readme-"));
const run = promisify(execFile);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README snippets", () => {
  it("has snippets to check", () => {
    expect(snippets.length).toBeGreaterThanOrEqual(4);
  });

  snippets.forEach((code, i) => {
    const needsRedis = code.includes("RedisMessageBroker");
    (needsRedis ? describeRedis : describe)(`snippet ${i + 1}`, () => check(code, i));
  });
});

function check(code: string, i: number): void {
  it(`runs${code.includes("RedisMessageBroker") ? " on Redis" : ""}`, async () => {
    const file = join(dir, `snippet-${i + 1}.ts`);
    writeFileSync(file, code);
    const { stdout } = await run(join(root, "node_modules/.bin/tsx"), [file], {
      cwd: root,
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: "--conditions=development" },
    });
    expect(typeof stdout).toBe("string");
  });
}

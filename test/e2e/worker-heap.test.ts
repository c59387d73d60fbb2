import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;

describe("a long-running worker (issue 9.1)", () => {
  it("keeps a flat heap: under 2 MB of growth between 50k and 300k jobs", async () => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", "--import", "tsx", `${root}test/fixtures/heap-worker.ts`, "300000"],
      { cwd: root, env: { ...process.env, NODE_OPTIONS: "--conditions=repid-source" } },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(err).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(out) as { done: number; heap: Record<string, number> };
    expect(report.done).toBe(300_000);
    const growth = report.heap["300000"]! - report.heap["50000"]!;
    console.log(`heap after GC: 50k ${report.heap["50000"]} B, 300k ${report.heap["300000"]} B, growth ${growth} B`);
    expect(growth).toBeLessThan(2 * 1024 * 1024);
  }, 120_000);
});

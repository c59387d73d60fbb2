import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;
const tsx = `${root}node_modules/.bin/tsx`;
const env = { ...process.env, NODE_OPTIONS: "--conditions=repid-source" };

describe("workers in real processes", () => {
  it("a sync actor whose module starts the service dead-letters with a clear reason, not a hang", async () => {
    const child = spawn(tsx, [`${root}test/fixtures/single-file-worker.ts`], { cwd: root, env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({
      processed: 1,
      dead: "ACTOR_NOT_FOUND",
      error: { code: "ACTOR_NOT_FOUND" },
    });
    expect(report.error.message).toMatch(
      /Repid\.magic\(\) ran while a worker thread.*without top-level side effects/,
    );
  });

  it("SIGTERM stops a worker gracefully: the running actor finishes, nothing else starts", async () => {
    const child = spawn(tsx, [`${root}test/fixtures/sigterm-worker.ts`], { cwd: root, env });
    let out = "";
    const started = new Promise<void>((resolve) =>
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("started")) resolve();
      }),
    );
    await started;
    // tsx forwards the signal to the node process it runs.
    child.kill("SIGTERM");
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    const report = JSON.parse(out.split("\n").find((l) => l.startsWith("{"))!);
    expect(report.runner).toMatchObject({ processed: 1, succeeded: 1, rejected: 0 });
    expect(report.counts).toEqual({ ready: 0, delayed: 1, running: 0, dead: 0 });
  });
});

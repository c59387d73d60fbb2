/**
 * Ctrl-C in a terminal sends SIGINT to the whole foreground process group: a worker run under a
 * wrapper (tsx, npm) gets it once from the terminal and once more relayed by the wrapper. Those
 * two count as one request for a graceful stop; only a second Ctrl-C, a moment later, forces it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;
const fixture = `${root}test/e2e/sigint-fixture.ts`;
const env = { ...process.env, NODE_OPTIONS: "--conditions=repid-source" };

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  /** Resolves once stdout has `count` lines matching `pattern`. */
  lines(pattern: RegExp, count?: number): Promise<void>;
  /** The runner the worker printed, once it has exited. */
  report(): Promise<{ code: number | null; runner: Record<string, number>; out: string }>;
}

function start(command: string, args: string[], extraEnv: Record<string, string> = {}): Child {
  const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv } });
  let out = "";
  const watchers = new Set<() => void>();
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    for (const check of watchers) check();
  });
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return {
    process: child,
    lines: (pattern, count = 1) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          const n = out.split("\n").filter((l) => pattern.test(l)).length;
          if (n >= count) {
            watchers.delete(check);
            resolve();
          }
        };
        watchers.add(check);
        check();
      }),
    report: async () => {
      const code = await exited;
      const line = out.split("\n").find((l) => l.startsWith('{"runner"'));
      if (!line) throw new Error(`no report from the worker:\n${out}`);
      return { code, runner: JSON.parse(line).runner, out };
    },
  };
}

describe("Ctrl-C", () => {
  it("a second SIGINT right after the first (the wrapper's copy) does not force the stop", async () => {
    const child = start(process.execPath, ["--import", "tsx", fixture]);
    await child.lines(/^started$/);
    child.process.kill("SIGINT");
    // The terminal's copy has been handled; the relayed copy follows at once. (Sent together, the
    // kernel may merge them into one, which would test nothing.)
    await child.lines(/SIGINT received, shutting down/);
    child.process.kill("SIGINT");
    await child.lines(/SIGINT/, 2);
    child.process.stdin.write("finish\n");
    const { code, runner, out } = await child.report();
    expect(code).toBe(0);
    expect(runner).toMatchObject({ processed: 1, succeeded: 1, rejected: 0 });
    expect(out).not.toMatch(/forcing stop/);
  });

  it("a second SIGINT after the first was handled, past the echo window, forces the stop", async () => {
    const child = start(process.execPath, ["--import", "tsx", fixture]);
    await child.lines(/^started$/);
    child.process.kill("SIGINT");
    await child.lines(/SIGINT received, shutting down/);
    // The scenario itself is a pause: a person pressing Ctrl-C again (the window is 500 ms).
    await sleep(700);
    child.process.kill("SIGINT");
    const { code, runner, out } = await child.report();
    expect(code).toBe(0);
    expect(runner).toMatchObject({ processed: 0, succeeded: 0, rejected: 1 });
    expect(out.match(/SIGINT/g)).toHaveLength(2);
    expect(out).toMatch(/SIGINT received, forcing stop/);
  });

  it("after a forced stop, an actor that ignores ctx.signal does not keep the process alive (issue 24)", async () => {
    const child = start(process.execPath, ["--import", "tsx", fixture], { IGNORE_SIGNAL: "1" });
    await child.lines(/^started$/);
    child.process.kill("SIGINT");
    await child.lines(/SIGINT received, shutting down/);
    await sleep(700);
    child.process.kill("SIGINT");
    const { code, runner, out } = await child.report();
    // Ended by the worker (128 + SIGINT's 2), long before the actor's 60 s timer.
    expect(code).toBe(130);
    expect(runner).toMatchObject({ processed: 0, rejected: 1 });
    expect(out).toMatch(
      /forced stop: work that ignores ctx.signal still holds the process; exiting/,
    );
    expect(out).not.toMatch(/actor ended/);
  });
});

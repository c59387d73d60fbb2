import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker as Thread } from "node:worker_threads";
import { ActorAbortedError, JobTimeoutError, RepidError } from "../../errors.js";
import type { FailureInfo } from "../../brokers/broker.js";
import type { RunReply, RunRequest } from "./protocol.js";

export type ExecutorKind = "thread" | "process";

/** A finished call: the JSON result, or the error the actor threw in its thread/process. */
export type ExecutorOutcome =
  { ok: true; value: string | undefined } | { ok: false; error: FailureInfo };

interface Slot {
  readonly send: (request: RunRequest) => void;
  readonly kill: () => void;
  onReply: ((reply: RunReply) => void) | undefined;
  onExit: ((reason: string) => void) | undefined;
}

const ENTRY = new URL(
  `./executor-entry${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`,
  import.meta.url,
);
const isTs = (url: string): boolean => /\.[cm]?tsx?$/.test(url);

/**
 * A fixed-size pool of worker threads or child processes running sync actors. Slots are
 * started on demand and reused; a slot whose call times out or is aborted is killed (the only
 * way to stop sync code) and replaced by a fresh one on the next call.
 */
export class ExecutorPool {
  readonly #kind: ExecutorKind;
  readonly #size: number;
  readonly #idle: Slot[] = [];
  readonly #waiting: ((slot: Slot | undefined) => void)[] = [];
  readonly #all = new Set<Slot>();
  #closed = false;
  #module: string | undefined;

  constructor(kind: ExecutorKind, size: number) {
    this.#kind = kind;
    this.#size = Math.max(1, size);
  }

  /** Runs the actor `request.actor` from `request.module`; rejects on timeout or abort. */
  async run(request: RunRequest, timeoutMs: number, signal: AbortSignal): Promise<ExecutorOutcome> {
    const slot = await this.#acquire(request.module, signal);
    if (!slot) throw new ActorAbortedError();
    return new Promise<ExecutorOutcome>((resolve, reject) => {
      const finish = (outcome: ExecutorOutcome | undefined, error?: Error): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        slot.onReply = undefined;
        slot.onExit = undefined;
        if (outcome) {
          this.#release(slot);
          resolve(outcome);
        } else {
          this.#discard(slot);
          reject(error);
        }
      };
      const onAbort = (): void => finish(undefined, abortReason(signal));
      const timer = setTimeout(() => finish(undefined, new JobTimeoutError(timeoutMs)), timeoutMs);
      slot.onReply = (reply) =>
        finish(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: reply.error });
      slot.onExit = (reason) => finish(undefined, new RepidError("ACTOR_ABORTED", reason));
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) return onAbort();
      slot.send(request);
    });
  }

  /** Kills every thread/process; pending acquisitions resolve empty. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#waiting.splice(0)) wake(undefined);
    for (const slot of [...this.#all]) this.#discard(slot);
  }

  async #acquire(module: string, signal: AbortSignal): Promise<Slot | undefined> {
    if (this.#closed) return undefined;
    this.#module = module;
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#all.size < this.#size) return this.#spawn(module);
    return new Promise((resolve) => {
      const wake = (slot: Slot | undefined): void => {
        signal.removeEventListener("abort", onAbort);
        resolve(slot);
      };
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(wake);
        if (i >= 0) this.#waiting.splice(i, 1);
        resolve(undefined);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(wake);
    });
  }

  #release(slot: Slot): void {
    const next = this.#waiting.shift();
    if (next) next(slot);
    else this.#idle.push(slot);
  }

  #discard(slot: Slot): void {
    if (!this.#all.delete(slot)) return;
    const i = this.#idle.indexOf(slot);
    if (i >= 0) this.#idle.splice(i, 1);
    slot.kill();
    // A waiter may now start a fresh slot in place of the killed one.
    const next = this.#waiting.shift();
    if (next) next(this.#closed ? undefined : this.#spawn(this.#module));
  }

  #spawn(module: string | undefined): Slot {
    const tsx =
      isTs(ENTRY.href) || (module !== undefined && isTs(module)) ? tsxLoader(module) : undefined;
    const slot = this.#kind === "thread" ? threadSlot(tsx) : processSlot(tsx);
    this.#all.add(slot);
    return slot;
  }
}

function threadSlot(tsx: TsxLoader | undefined): Slot {
  // A thread does not inherit tsx's loader on Node 20: a small bootstrap registers it first.
  const thread = tsx
    ? new Thread(
        `import(${JSON.stringify(tsx.api)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); });`,
        { eval: true },
      )
    : new Thread(ENTRY);
  thread.unref();
  const slot: Slot = {
    send: (request) => thread.postMessage(request),
    kill: () => void thread.terminate(),
    onReply: undefined,
    onExit: undefined,
  };
  thread.on("message", (reply: RunReply) => slot.onReply?.(reply));
  thread.on("error", (error) => slot.onExit?.(`Actor thread crashed: ${error.message}`));
  thread.on("exit", (code) => slot.onExit?.(`Actor thread exited with code ${code}`));
  return slot;
}

function processSlot(tsx: TsxLoader | undefined): Slot {
  const child: ChildProcess = fork(fileURLToPath(ENTRY), [], {
    execArgv: tsx ? [...process.execArgv, "--import", tsx.loader] : process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  child.unref();
  child.channel?.unref();
  const slot: Slot = {
    send: (request) => child.send(request),
    kill: () => void child.kill("SIGKILL"),
    onReply: undefined,
    onExit: undefined,
  };
  child.on("message", (reply: RunReply) => slot.onReply?.(reply));
  child.on("error", (error) => slot.onExit?.(`Actor process failed: ${error.message}`));
  child.on("exit", (code, sig) => slot.onExit?.(`Actor process exited (${sig ?? code})`));
  return slot;
}

interface TsxLoader {
  /** URL of `tsx/esm/api` (its `register()` hooks TypeScript into this thread). */
  readonly api: string;
  /** URL of tsx's loader, for `--import` in a child process. */
  readonly loader: string;
}

function tsxLoader(module: string | undefined): TsxLoader {
  for (const base of [module, import.meta.url]) {
    if (!base?.startsWith("file:")) continue;
    try {
      const require = createRequire(base);
      const loader = require.resolve("tsx");
      const api = loader.replace(/loader\.mjs$/, "esm/api/index.mjs");
      return { api: pathToFileURL(api).href, loader: pathToFileURL(loader).href };
    } catch {
      // try the next base
    }
  }
  throw new RepidError(
    "ACTOR_NOT_FOUND",
    "A TypeScript actor module must run in a thread/process, but tsx cannot be resolved: install tsx or build to JavaScript",
  );
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new ActorAbortedError();
}

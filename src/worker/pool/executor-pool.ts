import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker as Thread } from "node:worker_threads";
import { ActorAbortedError, JobTimeoutError, RepidError } from "../../core/errors.js";
import type { FailureInfo } from "../../brokers/broker.js";
import type { Logger } from "../../core/logger.js";
import { setLongTimeout } from "../../core/timers.js";
import type { ParentMessage, RunReply, RunRequest } from "./protocol.js";

export type ExecutorKind = "thread" | "process";

/** A finished call: the JSON result, or the error the actor threw in its thread/process. */
export type ExecutorOutcome =
  { ok: true; value: string | undefined } | { ok: false; error: FailureInfo };

interface Slot {
  readonly send: (message: ParentMessage) => void;
  readonly kill: () => void;
  onReply: ((reply: RunReply & { type: "done" }) => void) | undefined;
  onStarted: (() => void) | undefined;
  /** The call in progress reported progress (JSON text). */
  onProgress: ((value: string) => void) | undefined;
  /** Set by the pool: the thread or process is gone (crashed, exited or killed). */
  onExit: ((reason: string) => void) | undefined;
}

/** How long an aborted call's thread gets to run its `ctx.signal` listeners before it is killed. */
const ABORT_GRACE_MS = 200;
/** Time a fresh thread or process may take to load an actor's module before its call begins. */
const LOAD_ALLOWANCE_MS = 30_000;

const ENTRY = new URL(
  `./executor-entry${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`,
  import.meta.url,
);
const isTs = (url: string): boolean => /\.[cm]?tsx?$/.test(url);

/**
 * A fixed-size pool of worker threads or child processes running sync actors. Slots are
 * started on demand and reused. A slot whose call times out or is aborted is told so (its
 * `ctx.signal` fires), then killed (the only way to stop sync code) and replaced by a fresh one
 * on the next call. A slot that dies while idle is replaced before its next call; errors thrown
 * in a slot outside any call reach the logger.
 */
export class ExecutorPool {
  readonly #kind: ExecutorKind;
  readonly #size: number;
  readonly #logger: Logger;
  readonly #warned = new Set<string>();
  readonly #idle: Slot[] = [];
  readonly #waiting: ((slot: Slot | undefined) => void)[] = [];
  readonly #all = new Set<Slot>();
  #closed = false;
  #module: string | undefined;

  constructor(kind: ExecutorKind, size: number, logger: Logger) {
    this.#kind = kind;
    this.#size = Math.max(1, size);
    this.#logger = logger;
  }

  /**
   * Runs the actor `request.actor` from `request.module`; rejects on timeout or abort. The
   * timeout counts from the moment the call reaches a slot, not while it waits for one.
   * `onProgress` receives what the actor reports through `ctx.progress`, as JSON text.
   */
  async run(
    request: RunRequest,
    timeoutMs: number,
    signal: AbortSignal,
    onProgress?: (value: string) => void,
  ): Promise<ExecutorOutcome> {
    const slot = await this.#acquire(request.module, signal);
    if (!slot) throw new ActorAbortedError();
    return new Promise<ExecutorOutcome>((resolve, reject) => {
      const finish = (outcome: ExecutorOutcome | undefined, error?: Error): void => {
        timer.clear();
        signal.removeEventListener("abort", onAbort);
        slot.onReply = undefined;
        slot.onStarted = undefined;
        slot.onProgress = undefined;
        if (outcome) {
          this.#release(slot);
          resolve(outcome);
        } else {
          this.#discard(slot, error);
          reject(error);
        }
      };
      const onAbort = (): void => finish(undefined, abortReason(signal));
      const timedOut = (): void => finish(undefined, new JobTimeoutError(timeoutMs));
      // Until the slot says the call began, loading the actor's module may take a while too.
      let timer = setLongTimeout(timedOut, timeoutMs + LOAD_ALLOWANCE_MS);
      slot.onStarted = () => {
        timer.clear();
        timer = setLongTimeout(timedOut, timeoutMs);
      };
      slot.onProgress = onProgress;
      slot.onReply = (reply) => {
        if (reply.ok && reply.promise) this.#warnPromise(request.actor);
        finish(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: reply.error });
      };
      slot.onExit = (reason) => {
        if (slot.onReply) finish(undefined, new RepidError("ACTOR_ABORTED", reason));
        else this.#discard(slot);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) return onAbort();
      slot.send(request);
    });
  }

  /** Once per actor: a function not declared `async` that returns a promise runs in a thread. */
  #warnPromise(actor: string): void {
    if (this.#warned.has(actor)) return;
    this.#warned.add(actor);
    this.#logger.warn(
      `repid: actor "${actor}" is not declared async but returned a Promise, so it runs in a worker ${this.#kind} as a sync actor; declare it \`async\` to run it on the event loop`,
      { actor },
    );
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

  /**
   * Takes a slot out of the pool and kills it; with `abort`, its call is first told why (its
   * `ctx.signal` fires) and gets a moment to react.
   */
  #discard(slot: Slot, abort?: Error): void {
    if (!this.#all.delete(slot)) return;
    slot.onExit = undefined;
    const i = this.#idle.indexOf(slot);
    if (i >= 0) this.#idle.splice(i, 1);
    if (abort && !this.#closed) {
      slot.send({ type: "abort", reason: { name: abort.name, message: abort.message } });
      setTimeout(slot.kill, ABORT_GRACE_MS).unref();
    } else {
      slot.kill();
    }
    // A waiter may now start a fresh slot in place of the killed one.
    const next = this.#waiting.shift();
    if (next) next(this.#closed ? undefined : this.#spawn(this.#module));
  }

  #spawn(module: string | undefined): Slot {
    const tsx =
      isTs(ENTRY.href) || (module !== undefined && isTs(module)) ? tsxLoader(module) : undefined;
    const slot =
      this.#kind === "thread" ? threadSlot(tsx, this.#logger) : processSlot(tsx, this.#logger);
    // Watched for its whole life, not only during a call: one that dies idle is replaced.
    slot.onExit = () => this.#discard(slot);
    this.#all.add(slot);
    return slot;
  }
}

/** Routes a slot's messages: call replies to the caller, stray errors to the logger. */
function onMessage(slot: Slot, logger: Logger, kind: string): (reply: RunReply) => void {
  return (reply) => {
    if (reply.type === "done") slot.onReply?.(reply);
    else if (reply.type === "started") slot.onStarted?.();
    else if (reply.type === "progress") slot.onProgress?.(reply.value);
    else
      logger.error(
        `repid: uncaught error in an actor ${kind} (outside any call): ${reply.error.name}: ${reply.error.message}`,
        { error: reply.error },
      );
  };
}

function threadSlot(tsx: TsxLoader | undefined, logger: Logger): Slot {
  // A thread does not inherit tsx's loader on Node 20: a small bootstrap registers it first.
  const thread = tsx
    ? new Thread(
        `import(${JSON.stringify(tsx.api)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); });`,
        { eval: true },
      )
    : new Thread(ENTRY);
  thread.unref();
  const slot: Slot = {
    send: (message) => thread.postMessage(message),
    kill: () => void thread.terminate(),
    onReply: undefined,
    onStarted: undefined,
    onProgress: undefined,
    onExit: undefined,
  };
  thread.on("message", onMessage(slot, logger, "thread"));
  thread.on("error", (error) => {
    logger.error(`repid: an actor thread crashed: ${error.message}`, { error });
    slot.onExit?.(`Actor thread crashed: ${error.message}`);
  });
  thread.on("exit", (code) => slot.onExit?.(`Actor thread exited with code ${code}`));
  return slot;
}

function processSlot(tsx: TsxLoader | undefined, logger: Logger): Slot {
  const child: ChildProcess = fork(fileURLToPath(ENTRY), [], {
    execArgv: tsx ? [...process.execArgv, "--import", tsx.loader] : process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  child.unref();
  child.channel?.unref();
  const slot: Slot = {
    send: (message) => {
      if (child.connected) child.send(message);
    },
    kill: () => void child.kill("SIGKILL"),
    onReply: undefined,
    onStarted: undefined,
    onProgress: undefined,
    onExit: undefined,
  };
  child.on("message", onMessage(slot, logger, "process"));
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

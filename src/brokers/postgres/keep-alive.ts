/**
 * `keepAlive` of the Postgres broker: a consumer's heartbeat refreshed every `ttlMs / 3` from
 * one worker thread per process (./threads/keep-alive-thread.js), over a connection of its own,
 * so a main event loop blocked by an actor does not let it expire. The thread is started with
 * the first heartbeat and unref'd (it never keeps a process alive). Failed refreshes are logged;
 * a stop removes the record, so the consumer's remaining leases end at once.
 */
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { Logger } from "../../core/logger.js";
import type { KeepAlive } from "../broker.js";

/** What the thread needs to reach the database: the parts of a pg config that cross threads. */
export type PortableConfig = Record<string, string | number | boolean>;

interface Pending {
  readonly logger: Logger;
  readonly consumer: string;
  started?: () => void;
  removed?: () => void;
}

let thread: Worker | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();

function threadUrl(): URL {
  const local = new URL("./threads/keep-alive-thread.js", import.meta.url);
  if (existsSync(local)) return local;
  // Built: dist/src/brokers/postgres/ -> the source folder the package ships.
  return new URL("../../../../src/brokers/postgres/threads/keep-alive-thread.js", import.meta.url);
}

function useThread(): Worker {
  if (thread) return thread;
  const made = new Worker(threadUrl());
  made.on("message", (m: { type: string; id: number; message?: string }) => {
    const entry = pending.get(m.id);
    if (!entry) return;
    if (m.type === "started") entry.started?.();
    else if (m.type === "error")
      entry.logger.warn("repid: a Postgres heartbeat refresh failed", {
        consumer: entry.consumer,
        error: m.message,
      });
    else if (m.type === "removed") {
      pending.delete(m.id);
      entry.removed?.();
    }
  });
  // A thread that died beats no more: its heartbeats expire, and their stops must not hang.
  const gone = (): void => {
    if (thread === made) thread = undefined;
    for (const [id, entry] of pending) {
      pending.delete(id);
      entry.logger.error("repid: the Postgres keep-alive thread stopped", {
        consumer: entry.consumer,
      });
      entry.removed?.();
    }
  };
  made.on("error", gone);
  made.on("exit", gone);
  // After the listeners: adding a message listener refs the thread again, and an idle thread
  // must never keep the process alive.
  made.unref();
  thread = made;
  return made;
}

/** Starts a heartbeat of `consumer` in the keep-alive thread. */
export function startKeepAlive(
  config: PortableConfig,
  schema: string,
  consumer: string,
  ttlMs: number,
  logger: Logger,
): KeepAlive {
  const worker = useThread();
  const id = ++nextId;
  const entry: Pending = { logger, consumer };
  pending.set(id, entry);
  const intervalMs = Math.max(50, Math.floor(ttlMs / 3));
  worker.postMessage({ type: "add", id, spec: { config, schema, consumer, ttlMs, intervalMs } });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (!pending.has(id)) return resolve();
        entry.removed = resolve;
        worker.postMessage({ type: "remove", id });
      }),
  };
}

/**
 * The connection settings of a pool's config that can cross into a thread (strings, numbers,
 * booleans), or `undefined` when one that matters cannot (a password function, a custom stream,
 * TLS objects): the heartbeat then stays on the main thread.
 */
export function portableConfig(config: Record<string, unknown>): PortableConfig | undefined {
  const out: PortableConfig = {};
  for (const key of [
    "connectionString",
    "host",
    "port",
    "user",
    "password",
    "database",
    "application_name",
  ]) {
    const value = config[key];
    if (value === undefined) continue;
    if (typeof value !== "string" && typeof value !== "number") return undefined;
    out[key] = value;
  }
  for (const key of ["ssl", "stream", "Client", "types"]) {
    if (config[key] !== undefined && config[key] !== false) return undefined;
  }
  return out;
}

import { lookup } from "node:dns";
import { Worker } from "node:worker_threads";
import type { Redis, RedisOptions } from "ioredis";
import type { Logger } from "../../core/logger.js";
import type { KeepAlive } from "../broker.js";
import { groupBySlot, isCluster, type RedisClient } from "./cluster.js";
import type { KeySpace } from "./connection.js";
import { keepAliveThreadUrl, scriptCall, type Script, type ScriptCall } from "./scripts.js";

/**
 * Options of a client that only shape its own behaviour (retries, reconnection, queueing): the
 * thread sets its own, so these are not copied. Every other option is, or the thread is not used.
 */
const BEHAVIOUR: ReadonlySet<string> = new Set([
  "retryStrategy",
  "reconnectOnError",
  "sentinelRetryStrategy",
  "sentinelReconnectStrategy",
  "clusterRetryStrategy",
  "maxRetriesPerRequest",
  "enableOfflineQueue",
  "enableReadyCheck",
  "lazyConnect",
  "autoResubscribe",
  "autoResendUnfulfilledCommands",
  "commandTimeout",
  "connectionName",
  "scripts",
  "showFriendlyErrorStack",
  "monitor",
  "readOnly",
  "offlineQueue",
  "Connector",
]);

/** The options the thread connects with, or the first one that cannot cross into a thread. */
export function portableOptions(
  client: RedisClient,
  name: string,
):
  | { readonly options: RedisOptions; readonly clusterOptions?: Record<string, unknown> }
  | { readonly refused: string } {
  const out: Record<string, unknown> = { connectionName: name };
  let clusterOptions: Record<string, unknown> | undefined;
  if (isCluster(client)) {
    // The cluster's own address translation and name lookup: how its nodes are reached.
    const c = client.options as Record<string, unknown>;
    if (c["dnsLookup"] !== undefined && c["dnsLookup"] !== lookup) return { refused: "dnsLookup" };
    clusterOptions = {};
    if (c["natMap"]) {
      try {
        clusterOptions["natMap"] = structuredClone(c["natMap"]);
      } catch {
        return { refused: "natMap" };
      }
    }
  }
  const options = (
    isCluster(client) ? (client.options.redisOptions ?? {}) : (client as Redis).options
  ) as Record<string, unknown>;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === null || BEHAVIOUR.has(key)) continue;
    try {
      out[key] = structuredClone(value);
    } catch {
      // A function or a native handle (tls.checkServerIdentity, tls.secureContext, dnsLookup, a
      // natMap function): a thread would connect with weaker or other settings than this client.
      return { refused: describeRefused(key, value) };
    }
  }
  return { options: out as RedisOptions, ...(clusterOptions ? { clusterOptions } : {}) };
}

/** `tls.checkServerIdentity` rather than `tls`: the part that cannot be copied. */
function describeRefused(key: string, value: unknown): string {
  if (value && typeof value === "object") {
    for (const [inner, v] of Object.entries(value)) {
      try {
        structuredClone(v);
      } catch {
        return `${key}.${inner}`;
      }
    }
  }
  return key;
}

/** A cluster's known nodes, for the thread to build its own Cluster client from. */
function clusterNodes(client: RedisClient): { host: string; port: number }[] | undefined {
  if (!isCluster(client)) return undefined;
  const nodes = client.nodes("all").map((n) => ({ host: n.options.host!, port: n.options.port! }));
  if (nodes.length > 0) return nodes;
  return (client as unknown as { startupNodes: { host: string; port: number }[] }).startupNodes.map(
    (n) => ({ host: n.host, port: n.port }),
  );
}

export interface KeepAliveSettings {
  readonly client: RedisClient;
  readonly name: string;
  readonly script: Script;
  readonly logger: Logger;
  /** The key lists of the heartbeat.lua calls (see `heartbeatGroups`). */
  readonly groups: readonly (readonly string[])[];
  readonly consumer: string;
  readonly ttlMs: number;
  /** Writes a heartbeat on the main connection (first beat, fallback timer, removal). */
  readonly beat: (ttlMs: number) => Promise<void>;
}

/** What one heartbeat hears from the thread. */
interface Listener {
  readonly message: (m: { type: string; message?: string }) => void;
  /** The thread is gone (it failed, or was terminated): the heartbeat falls back to a timer. */
  readonly lost: (error: Error) => void;
}

/**
 * The process's one keep-alive thread, shared by the heartbeats of every consumer of every
 * broker: started with the first heartbeat (about 60 ms of CPU, paid once per process), left
 * idle (unreferenced, holding no connection) when the last one stops, and started again after a
 * failure.
 */
class KeepAliveThread {
  static #current: KeepAliveThread | undefined;
  static #started = 0;

  /** Threads started by this process so far (for tests: they must be shared, not one each). */
  static get started(): number {
    return KeepAliveThread.#started;
  }

  static shared(): KeepAliveThread {
    if (!KeepAliveThread.#current) {
      KeepAliveThread.#current = new KeepAliveThread();
      KeepAliveThread.#started++;
    }
    return KeepAliveThread.#current;
  }

  readonly #thread: Worker;
  readonly #listeners = new Map<number, Listener>();
  readonly #removals = new Map<number, () => void>();
  #next = 1;

  private constructor() {
    this.#thread = new Worker(keepAliveThreadUrl());
    this.#thread.on("message", (m: { type: string; id: number; message?: string }) => {
      if (m.type === "removed") {
        this.#removals.get(m.id)?.();
        this.#removals.delete(m.id);
      } else this.#listeners.get(m.id)?.message(m);
    });
    const gone = (error: Error): void => {
      if (KeepAliveThread.#current === this) KeepAliveThread.#current = undefined;
      for (const done of this.#removals.values()) done();
      this.#removals.clear();
      const listeners = [...this.#listeners.values()];
      this.#listeners.clear();
      for (const l of listeners) l.lost(error);
    };
    this.#thread.on("error", gone);
    this.#thread.on("exit", (code) => gone(new Error(`keep-alive thread exited (code ${code})`)));
    // After the listeners (adding a message listener refs the thread again): an idle thread
    // never keeps the process alive.
    this.#thread.unref();
  }

  add(spec: Record<string, unknown>, listener: Listener): number {
    const id = this.#next++;
    this.#listeners.set(id, listener);
    this.#thread.postMessage({ type: "add", id, spec });
    return id;
  }

  /** Stops heartbeat `id`; resolves once its call in flight (if any) has answered. */
  remove(id: number): Promise<void> {
    if (!this.#listeners.delete(id)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#removals.set(id, resolve);
      this.#thread.postMessage({ type: "remove", id });
    });
  }
}

/** Threads started by this process so far: one, however many consumers keep alive. */
export function keepAliveThreadsStarted(): number {
  return KeepAliveThread.started;
}

/**
 * Keeps a consumer's heartbeat alive from the process's keep-alive thread: refreshed every
 * `ttlMs / 4` over the thread's own connection. The first heartbeat goes out at once on the main
 * connection, so it reaches Redis ahead of any receive issued after this call, and a timer here
 * refreshes it until the thread has written its own. While the thread cannot write, each of its
 * failed refreshes is made up by one from the main connection; should the thread die, the timer
 * here takes over again.
 */
export function startKeepAlive(s: KeepAliveSettings): KeepAlive {
  const intervalMs = Math.max(50, Math.floor(s.ttlMs / 4));
  const report = (error: unknown): void =>
    s.logger.error(`repid redis: refreshing the heartbeat of consumer "${s.consumer}" failed`, {
      consumer: s.consumer,
      error: error instanceof Error ? error.message : String(error),
    });
  s.beat(s.ttlMs).catch(report);
  let stopping = false;
  const fallBack = (): NodeJS.Timeout => {
    const timer = setInterval(() => void s.beat(s.ttlMs).catch(report), intervalMs);
    timer.unref();
    return timer;
  };
  // Until the thread has written its first heartbeat, a timer here keeps the record alive.
  let fallback: NodeJS.Timeout | undefined = fallBack();
  const portable = portableOptions(s.client, s.name);
  if ("refused" in portable) {
    s.logger.warn(
      `repid redis: the keep-alive thread cannot use the client's option "${portable.refused}" (a function or a native object cannot cross into a thread), and would connect with other settings; heartbeats of consumer "${s.consumer}" run on the main thread instead, where an event loop blocked past the heartbeat's time to live lets other workers take its leases`,
      { consumer: s.consumer, option: portable.refused },
    );
    return {
      async stop() {
        if (stopping) return;
        stopping = true;
        clearInterval(fallback);
        await s.beat(0);
      },
    };
  }
  const thread = KeepAliveThread.shared();
  const id = thread.add(
    {
      options: portable.options,
      clusterOptions: portable.clusterOptions,
      cluster: clusterNodes(s.client),
      groups: s.groups,
      consumer: s.consumer,
      ttlMs: s.ttlMs,
      intervalMs,
      lua: s.script.lua,
      sha: s.script.sha,
    },
    {
      message(m) {
        if (m.type === "started") {
          clearInterval(fallback);
          fallback = undefined;
        } else if (m.type === "error") {
          // The thread could not write (its connection refused, say): write from here meanwhile.
          if (!stopping) s.beat(s.ttlMs).catch(() => {});
          report(new Error(m.message));
        } else if (m.type === "recovered")
          s.logger.info(`repid redis: heartbeat of consumer "${s.consumer}" written again`);
      },
      lost(error) {
        report(error);
        if (stopping || fallback) return;
        fallback = fallBack();
      },
    },
  );
  return {
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(fallback);
      // Once the thread's refresh in flight has answered, nothing of this consumer's lands
      // after the removal below.
      await thread.remove(id);
      await s.beat(0);
    },
  };
}

/** The (consumers, clock) key pairs heartbeat.lua writes, one pair per queue. */
export function heartbeatKeys(keys: KeySpace, queues: readonly string[]): string[] {
  return queues.flatMap((q) => {
    const k = keys.queue(q);
    return [k.consumers, k.clock];
  });
}

/**
 * The key lists of the heartbeat.lua calls over `keys` (pairs), 200 queues per call; on a
 * cluster (`bySlot`), each call's queues share one slot.
 */
export function heartbeatGroups(keys: readonly string[], bySlot: boolean): string[][] {
  const pairs: string[][] = [];
  for (let i = 0; i + 1 < keys.length; i += 2) pairs.push([keys[i]!, keys[i + 1]!]);
  const slotGroups = bySlot ? groupBySlot(pairs, (p) => p[0]!) : [pairs.map((_, i) => i)];
  const groups: string[][] = [];
  for (const group of slotGroups) {
    for (let i = 0; i < group.length; i += 200)
      groups.push(group.slice(i, i + 200).flatMap((index) => pairs[index]!));
  }
  return groups;
}

/** heartbeat.lua calls over the key lists of `heartbeatGroups`. */
export function heartbeatCalls(
  groups: readonly (readonly string[])[],
  consumer: string,
  ttlMs: number,
): ScriptCall[] {
  return groups.map((keys) =>
    scriptCall("heartbeat", keys, [consumer, Math.max(0, Math.ceil(ttlMs))]),
  );
}

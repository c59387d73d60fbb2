import { Worker } from "node:worker_threads";
import type { Redis, RedisOptions } from "ioredis";
import type { Logger } from "../../logger.js";
import type { KeepAlive } from "../broker.js";
import { groupBySlot, isCluster, type RedisClient } from "./cluster.js";
import type { KeySpace } from "./connection.js";
import { keepAliveThreadUrl, type Script, type ScriptCall } from "./scripts.js";

/** Connection settings a thread can receive (functions such as retryStrategy cannot cross). */
const PORTABLE: readonly (keyof RedisOptions)[] = [
  "host",
  "port",
  "path",
  "username",
  "password",
  "db",
  "family",
  "tls",
  "connectTimeout",
];

function portableOptions(client: RedisClient, name: string): RedisOptions {
  const out: Record<string, unknown> = { connectionName: name };
  const options = (
    isCluster(client) ? (client.options.redisOptions ?? {}) : (client as Redis).options
  ) as Record<string, unknown>;
  for (const key of PORTABLE) {
    const value = options[key];
    if (value === undefined) continue;
    try {
      out[key] = structuredClone(value);
    } catch {
      // not transferable (a TLS option holding a function): the thread connects without it
    }
  }
  return out as RedisOptions;
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
  /** The key lists of the heartbeat.lua calls (see `heartbeatCalls`). */
  readonly groups: readonly (readonly string[])[];
  readonly consumer: string;
  readonly ttlMs: number;
  /** Writes a heartbeat on the main connection (first beat, fallback timer, removal). */
  readonly beat: (ttlMs: number) => Promise<void>;
}

/**
 * Starts a worker thread that refreshes the heartbeat every `ttlMs / 4` over its own connection.
 * The first heartbeat goes out at once on the main connection, so it reaches Redis ahead of any
 * receive issued after this call, and a timer here refreshes it until the thread has written its
 * own. While the thread cannot write, each of its failed refreshes is made up by one from the
 * main connection; should the thread die, the timer here takes over again.
 */
export function startKeepAlive(s: KeepAliveSettings): KeepAlive {
  const intervalMs = Math.max(50, Math.floor(s.ttlMs / 4));
  const report = (error: unknown): void =>
    s.logger.error(`repid redis: refreshing the heartbeat of consumer "${s.consumer}" failed`, {
      consumer: s.consumer,
      error: error instanceof Error ? error.message : String(error),
    });
  s.beat(s.ttlMs).catch(report);
  let fallback: NodeJS.Timeout | undefined;
  let stopping = false;
  const thread = new Worker(keepAliveThreadUrl(), {
    workerData: {
      options: portableOptions(s.client, s.name),
      cluster: clusterNodes(s.client),
      groups: s.groups,
      consumer: s.consumer,
      ttlMs: s.ttlMs,
      intervalMs,
      lua: s.script.lua,
      sha: s.script.sha,
    },
  });
  thread.unref();
  const exited = new Promise<void>((resolve) => thread.once("exit", () => resolve()));
  // Until the thread has written its first heartbeat (starting a thread and loading ioredis in
  // it takes a while on a busy machine), a timer here keeps the record alive.
  fallback = setInterval(() => void s.beat(s.ttlMs).catch(report), intervalMs);
  fallback.unref();
  thread.on("message", (m: { type: string; message?: string }) => {
    if (m.type === "started") {
      clearInterval(fallback);
      fallback = undefined;
    } else if (m.type === "error") {
      // The thread could not write (its connection refused, say): write from here meanwhile.
      if (!stopping) s.beat(s.ttlMs).catch(() => {});
      report(new Error(m.message));
    } else if (m.type === "recovered")
      s.logger.info(`repid redis: heartbeat of consumer "${s.consumer}" written again`);
  });
  thread.on("error", (error) => {
    report(error);
    if (stopping || fallback) return;
    fallback = setInterval(() => void s.beat(s.ttlMs).catch(report), intervalMs);
    fallback.unref();
  });
  return {
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(fallback);
      // Terminated at once (a worker's stop waits for this). A refresh the thread had already
      // sent may land after the removal below: the record then lives at most ttlMs more, which
      // only delays the recovery of leases this consumer gave up, never takes a live one.
      await thread.terminate();
      await exited;
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
  return groups.map((keys) => ({
    script: "heartbeat",
    keys,
    args: [consumer, Math.max(0, Math.ceil(ttlMs))],
  }));
}

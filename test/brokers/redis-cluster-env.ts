/**
 * Where the Redis Cluster suites find their cluster: `REDIS_CLUSTER_URL`, the nodes' URLs
 * separated by commas (`.ci/run` starts a six-node cluster on 7101-7106 and sets it). Without it
 * the suites are skipped with a loud message, except under `CI=true`, where they fail instead.
 */
import { Cluster, type Redis } from "ioredis";
import { describeService } from "./service-env.js";
import {
  RedisMessageBroker,
  type RedisBrokerOptions,
} from "../../src/brokers/redis/redis-broker.js";
import { keySlot } from "../../src/brokers/redis/cluster.js";
import { uniquePrefix } from "./redis-env.js";

export const REDIS_CLUSTER_URL = process.env.REDIS_CLUSTER_URL;

/** The nodes of REDIS_CLUSTER_URL. */
export function clusterNodes(url = REDIS_CLUSTER_URL ?? ""): { host: string; port: number }[] {
  return url
    .split(",")
    .filter((u) => u.trim() !== "")
    .map((u) => {
      const parsed = new URL(u.trim());
      return { host: parsed.hostname, port: Number(parsed.port || 6379) };
    });
}

/** A plain Cluster client for tests to look at and tamper with the cluster directly. */
export function clusterAdmin(url = REDIS_CLUSTER_URL ?? ""): Cluster {
  const client = new Cluster(clusterNodes(url), { lazyConnect: true });
  client.on("error", () => {});
  return client;
}

async function probe(): Promise<string | undefined> {
  if (!REDIS_CLUSTER_URL) return "REDIS_CLUSTER_URL is not set";
  const client = new Cluster(clusterNodes(), {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 0 },
  });
  client.on("error", () => {});
  try {
    await client.connect();
    const info = await client.cluster("INFO");
    if (!/cluster_state:ok/.test(info)) return "cluster_state is not ok";
    if (client.nodes("master").length < 3) return "fewer than three masters";
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.disconnect();
  }
}

const problem = await probe();

/** True when a healthy cluster answered at REDIS_CLUSTER_URL. */
export const clusterAvailable = problem === undefined;

/** `describe` for suites that need a Redis Cluster: skipped loudly without one, failing under CI. */
export function describeRedisCluster(name: string, body: () => void): void {
  describeService(
    {
      name: "Redis Cluster",
      at: `REDIS_CLUSTER_URL=${REDIS_CLUSTER_URL ?? "(unset)"}`,
      problem,
      hint: "Start one with .ci/start-redis-cluster.sh and set REDIS_CLUSTER_URL.",
    },
    name,
    body,
  );
}

/** Every key under a prefix, on every master (SCAN, never KEYS). */
export async function clusterKeysWithPrefix(cluster: Cluster, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of cluster.nodes("master")) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
  }
  return found;
}

/** Deletes every key under a prefix on every master (one UNLINK per key: keys span slots). */
export async function clusterDeletePrefix(cluster: Cluster, prefix: string): Promise<void> {
  const keys = await clusterKeysWithPrefix(cluster, prefix);
  await Promise.all(keys.map((k) => cluster.unlink(k)));
}

/** The master (`host:port`) serving a key's slot, from CLUSTER SHARDS/SLOTS as the admin sees it. */
export async function masterOfKey(cluster: Cluster, key: string): Promise<string> {
  const slot = keySlot(key);
  const slots = (await cluster.cluster("SLOTS")) as unknown as [number, number, [string, number]][];
  for (const [from, to, master] of slots) {
    if (slot >= from && slot <= to) return `${master[0]}:${master[1]}`;
  }
  throw new Error(`no master serves slot ${slot}`);
}

/**
 * Queue names whose keys land on `count` different masters (one name per master), found by
 * trying `base-0`, `base-1`...
 */
export async function queuesOnDistinctMasters(
  cluster: Cluster,
  prefix: string,
  count: number,
  base = "q",
): Promise<string[]> {
  const byMaster = new Map<string, string>();
  for (let i = 0; byMaster.size < count && i < 1000; i++) {
    const name = `${base}-${i}`;
    const master = await masterOfKey(cluster, `${prefix}:{${name}}:msg`);
    if (!byMaster.has(master)) byMaster.set(master, name);
  }
  if (byMaster.size < count) throw new Error(`found no ${count} distinct masters`);
  return [...byMaster.values()];
}

/** A broker on the cluster under a fresh prefix, and a cleanup that deletes its keys. */
export function clusterBroker(options: RedisBrokerOptions = {}): {
  broker: RedisMessageBroker;
  prefix: string;
  cleanup: () => Promise<void>;
} {
  const prefix = options.prefix ?? uniquePrefix();
  const broker = new RedisMessageBroker(REDIS_CLUSTER_URL!, { ...options, prefix });
  return {
    broker,
    prefix,
    cleanup: async () => {
      await broker.disconnect();
      const admin = clusterAdmin();
      try {
        await admin.connect();
        await clusterDeletePrefix(admin, prefix);
      } finally {
        admin.disconnect();
      }
    },
  };
}

export type { Redis };

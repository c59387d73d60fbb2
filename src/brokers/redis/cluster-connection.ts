import { Cluster, type ClusterOptions, type RedisOptions } from "ioredis";
import { InvalidOptionError } from "../../core/errors.js";

/**
 * Defaults of a Cluster client the broker builds from URLs (a `Cluster` you pass is used as it
 * is). As for one Redis (see DEFAULT_CLIENT_OPTIONS): commands wait through a reconnection,
 * nothing connects before `connect()`. The slot map is read again every two seconds and after
 * any redirection, so that a promoted replica is found soon after a failover.
 */
export const DEFAULT_CLUSTER_OPTIONS: ClusterOptions = Object.freeze({
  lazyConnect: true,
  enableOfflineQueue: true,
  slotsRefreshInterval: 2000,
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 200,
  maxRedirections: 32,
});

/**
 * A Cluster client from `redis://host:port,redis://host:port,...` (any of the nodes will do;
 * ioredis learns the others). Credentials and TLS come from the first URL; a cluster has only
 * database 0.
 */
export function clusterFromUrls(input: string, name: string): Cluster {
  const urls = input
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  const nodes: { host: string; port: number }[] = [];
  let redisOptions: RedisOptions = {};
  for (const [i, raw] of urls.entries()) {
    let url: URL;
    try {
      if (!/^rediss?:\/\//.test(raw)) throw new Error("not a redis URL");
      url = new URL(raw);
    } catch {
      throw new InvalidOptionError(
        "url",
        `expected redis:// or rediss:// URLs separated by commas (the nodes of a Redis Cluster), got ${JSON.stringify(raw)}`,
      );
    }
    const db = url.pathname.replace(/^\//, "");
    if (db !== "" && db !== "0") {
      throw new InvalidOptionError(
        "url",
        `a Redis Cluster has only database 0, got ${JSON.stringify(raw)}`,
      );
    }
    nodes.push({ host: url.hostname || "127.0.0.1", port: Number(url.port || 6379) });
    if (i === 0) {
      redisOptions = {
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        ...(url.protocol === "rediss:" ? { tls: {} } : {}),
      };
    }
  }
  return new Cluster(nodes, {
    ...DEFAULT_CLUSTER_OPTIONS,
    redisOptions: {
      ...redisOptions,
      connectionName: name,
      // As for one Redis: an enqueue during a long outage fails loudly instead of hanging.
      maxRetriesPerRequest: 10,
    },
  });
}

/**
 * A client passed to the broker is taken in any state, as users create it: a `new Cluster(nodes)`
 * that is still connecting (exactly as the README shows), a `new Redis(url)` still connecting.
 * The broker waits for it to be ready within its connect timeout, and says what it waited for
 * when it gives up. Issue 24.
 */
import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { Job, Queue, silentLogger } from "../../src/index.js";
import { Connection } from "../../src/connection/connection.js";
import {
  clusterAdmin,
  clusterDeletePrefix,
  clusterNodes,
  describeRedisCluster,
} from "./redis-cluster-env.js";
import { REDIS_URL, adminClient, deletePrefix, describeRedis, uniquePrefix } from "./redis-env.js";

/** Declares a queue, enqueues one job and counts it: the broker works with that client. */
async function works(broker: RedisMessageBroker): Promise<number> {
  const connection = new Connection(broker, { logger: silentLogger });
  await connection.connect();
  await new Queue("states", { connection }).declare();
  await new Job("x", { queue: "states", connection }).enqueue();
  return (await broker.counts("states")).ready;
}

describeRedisCluster("a Cluster client created just before the broker", () => {
  it("is waited for, not refused", async () => {
    const cluster = new Cluster(clusterNodes());
    const prefix = uniquePrefix();
    const broker = new RedisMessageBroker(cluster, { prefix, logger: silentLogger });
    try {
      expect(cluster.status).not.toBe("ready");
      expect(await works(broker)).toBe(1);
    } finally {
      await broker.disconnect();
      cluster.disconnect();
      const admin = clusterAdmin();
      await clusterDeletePrefix(admin, prefix);
      admin.disconnect();
    }
  });
});

describeRedis("a Redis client created just before the broker", () => {
  it("is waited for", async () => {
    const client = new Redis(REDIS_URL);
    const prefix = uniquePrefix();
    const broker = new RedisMessageBroker(client, { prefix, logger: silentLogger });
    try {
      expect(await works(broker)).toBe(1);
    } finally {
      await broker.disconnect();
      client.disconnect();
      const admin = adminClient();
      await deletePrefix(admin, prefix);
      admin.disconnect();
    }
  });

  it("one that never gets ready fails within the connect timeout, saying what it waited for", async () => {
    // Nothing listens on port 1: ioredis keeps retrying, and never becomes ready.
    const client = new Redis({ host: "127.0.0.1", port: 1, retryStrategy: () => 50 });
    client.on("error", () => {});
    const broker = new RedisMessageBroker(client, { logger: silentLogger, connectTimeoutMs: 500 });
    const error = await broker.connect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    client.disconnect();
    expect(error?.message).toMatch(
      /the Redis client given to the broker was not ready within 500 ms/,
    );
  });
});

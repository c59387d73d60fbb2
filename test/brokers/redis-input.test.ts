import { Cluster } from "ioredis";
import { describe, expect, it } from "vitest";
import { BrokerError, InvalidOptionError } from "../../src/core/errors.js";
import { RedisMessageBroker } from "../../src/redis.js";

describe("RedisMessageBroker takes a Redis Cluster and refuses inputs it cannot use (issue 13)", () => {
  it("an ioredis Cluster is used as a cluster, never taken for options (no silent 127.0.0.1:6379)", async () => {
    // Nothing listens on port 1: a broker that connected to 127.0.0.1:6379 instead would succeed.
    const cluster = new Cluster([{ host: "127.0.0.1", port: 1 }], {
      lazyConnect: true,
      clusterRetryStrategy: () => null,
    });
    cluster.on("error", () => {});
    const broker = new RedisMessageBroker(cluster, { connectTimeoutMs: 500 });
    try {
      expect(broker.cluster).toBe(true);
      await expect(broker.connect()).rejects.toBeInstanceOf(BrokerError);
    } finally {
      await broker.disconnect();
      cluster.disconnect();
    }
  });

  it("several redis:// URLs separated by commas make a cluster; a database other than 0 is refused", async () => {
    const broker = new RedisMessageBroker("redis://127.0.0.1:1,redis://127.0.0.1:2");
    expect(broker.cluster).toBe(true);
    expect(new RedisMessageBroker("redis://127.0.0.1:6379").cluster).toBe(false);
    expect(() => new RedisMessageBroker("redis://127.0.0.1:1/2,redis://127.0.0.1:2")).toThrow(
      InvalidOptionError,
    );
    expect(() => new RedisMessageBroker("redis://127.0.0.1:1,http://127.0.0.1:2")).toThrow(
      InvalidOptionError,
    );
    await broker.disconnect();
  });

  it("objects that are not plain options (a Map, a class instance): InvalidOptionError", () => {
    expect(() => new RedisMessageBroker(new Map() as never)).toThrow(InvalidOptionError);
    expect(() => new RedisMessageBroker(new (class Options {})() as never)).toThrow(
      InvalidOptionError,
    );
    expect(() => new RedisMessageBroker(42 as never)).toThrow(InvalidOptionError);
  });

  it("waitForReplicas needs a whole number of replicas, at least one", () => {
    expect(
      () => new RedisMessageBroker("redis://127.0.0.1:1", { waitForReplicas: { replicas: 0 } }),
    ).toThrow(InvalidOptionError);
  });
});

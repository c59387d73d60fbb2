import { Cluster } from "ioredis";
import { describe, expect, it } from "vitest";
import { InvalidOptionError, NotSupportedError } from "../../src/errors.js";
import { RedisMessageBroker } from "../../src/redis.js";

describe("RedisMessageBroker refuses inputs it cannot use (issue 13)", () => {
  it("an ioredis Cluster: a clear NotSupportedError, never a silent connection to 127.0.0.1", () => {
    const cluster = new Cluster([{ host: "127.0.0.1", port: 1 }], { lazyConnect: true });
    try {
      expect(() => new RedisMessageBroker(cluster as never)).toThrow(NotSupportedError);
      expect(() => new RedisMessageBroker(cluster as never)).toThrow(/Redis Cluster/);
    } finally {
      cluster.disconnect();
    }
  });

  it("objects that are not plain options (a Map, a class instance): InvalidOptionError", () => {
    expect(() => new RedisMessageBroker(new Map() as never)).toThrow(InvalidOptionError);
    expect(() => new RedisMessageBroker(new (class Options {})() as never)).toThrow(
      InvalidOptionError,
    );
    expect(() => new RedisMessageBroker(42 as never)).toThrow(InvalidOptionError);
  });
});

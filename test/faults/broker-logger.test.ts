/**
 * Broker warnings reach the logger users set up: a Redis whose maxmemory-policy may evict queues
 * (a throwaway server started with allkeys-lru) warns at connect through the Connection's logger
 * when the broker was given none; with no logger anywhere the default logger prints it; a broker
 * given its own logger keeps it. Issue 24.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Connection } from "../../src/connection/connection.js";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { recordingLogger, startRedis, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
beforeAll(async () => {
  redis = await startRedis(["--maxmemory-policy", "allkeys-lru"]);
});
afterAll(async () => {
  await redis.stop();
});

const EVICTION = /maxmemory-policy is "allkeys-lru"/;

describe("broker warnings", () => {
  it("go to the Connection's logger when the broker was given none", async () => {
    const logger = recordingLogger();
    const connection = new Connection(new RedisMessageBroker(redis.url, { prefix: "logger-a" }), {
      logger,
    });
    await connection.connect();
    await connection.disconnect();
    expect(logger.lines.filter((line) => EVICTION.test(line))).toHaveLength(1);
    expect(logger.lines.find((line) => EVICTION.test(line))).toMatch(
      /^error: repid redis: WARNING/,
    );
  });

  it("are printed by the default logger when nobody passed a logger", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const connection = new Connection(new RedisMessageBroker(redis.url, { prefix: "logger-b" }));
      await connection.connect();
      await connection.disconnect();
      const printed = [...warn.mock.calls, ...error.mock.calls].map((call) => String(call[0]));
      expect(printed.filter((line) => EVICTION.test(line))).toHaveLength(1);
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
  });

  it("stay with the broker's own logger when it was given one", async () => {
    const own = recordingLogger();
    const connectionLogger = recordingLogger();
    const connection = new Connection(
      new RedisMessageBroker(redis.url, { prefix: "logger-c", logger: own }),
      { logger: connectionLogger },
    );
    await connection.connect();
    await connection.disconnect();
    expect(own.lines.filter((line) => EVICTION.test(line))).toHaveLength(1);
    expect(connectionLogger.lines.filter((line) => EVICTION.test(line))).toEqual([]);
  });
});

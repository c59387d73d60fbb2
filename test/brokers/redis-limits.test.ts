import { expect, it } from "vitest";
import { Connection, InMemoryResultStore, Worker, silentLogger } from "repid";
import { message, waitFor } from "./contract.js";
import { uniquePrefix } from "./redis-env.js";
import { describeLimitsContract } from "./limits-contract.js";
import { describeLimitsRuntime } from "./limits-runtime.js";
import { redisAvailable, describeRedis, testBroker } from "./redis-env.js";
import { clusterAvailable, clusterBroker, describeRedisCluster } from "./redis-cluster-env.js";

type Made = { broker: { connect(): Promise<void> }; cleanup: () => Promise<void> };

/** Every `open()` is another broker (its own connections) under the test's prefix. */
function shared(make: (prefix: string) => Made) {
  return async () => {
    const prefix = uniquePrefix();
    const made: Made[] = [];
    return {
      open: async () => {
        const m = make(prefix);
        made.push(m);
        await m.broker.connect();
        return m.broker as never;
      },
      // Each cleanup disconnects its broker; the last one also deletes the prefix's keys.
      cleanup: async () => {
        for (const m of made.splice(0)) await m.cleanup();
      },
    };
  };
}

describeRedis("redis limits", () => {
  if (!redisAvailable) return;
  describeLimitsContract(
    "redis",
    shared((prefix) => testBroker({ prefix })),
  );
  describeLimitsRuntime(
    "redis",
    shared((prefix) => testBroker({ prefix })),
  );
});

describeRedisCluster("redis cluster limits", () => {
  if (!clusterAvailable) return;
  describeLimitsContract(
    "redis-cluster",
    shared((prefix) => clusterBroker({ prefix })),
  );
  describeLimitsRuntime(
    "redis-cluster",
    shared((prefix) => clusterBroker({ prefix })),
  );
});

describeRedis("redis limits behind a separate result store", () => {
  if (!redisAvailable) return;
  it("a worker on a connection with its own result store declares its limits too", async () => {
    const { broker, cleanup } = testBroker();
    const connection = new Connection(broker, {
      results: new InMemoryResultStore(),
      logger: silentLogger,
    });
    try {
      const worker = new Worker({ connection, handleSignals: [] });
      worker.actor({ concurrency: 1 }, async function one_at_a_time() {});
      const running = worker.run();
      await waitFor(async () => (await broker.queueExists("default")) === true);
      worker.stop();
      await running;
      await broker.enqueue([
        message({ topic: "one_at_a_time" }),
        message({ topic: "one_at_a_time" }),
      ]);
      expect(await broker.counts("default")).toMatchObject({ ready: 1, limited: 1 });
    } finally {
      await cleanup();
    }
  });
});

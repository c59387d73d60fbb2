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
  describeLimitsContract("redis", shared((prefix) => testBroker({ prefix })));
  describeLimitsRuntime("redis", shared((prefix) => testBroker({ prefix })));
});

describeRedisCluster("redis cluster limits", () => {
  if (!clusterAvailable) return;
  describeLimitsContract("redis-cluster", shared((prefix) => clusterBroker({ prefix })));
  describeLimitsRuntime("redis-cluster", shared((prefix) => clusterBroker({ prefix })));
});

import { describeFlowProgress } from "./flow-progress-runtime.js";
import { describeRedis, redisAvailable, testBroker } from "./redis-env.js";
import { clusterAvailable, clusterBroker, describeRedisCluster } from "./redis-cluster-env.js";

describeRedis("redis flow progress", () => {
  if (!redisAvailable) return;
  describeFlowProgress("redis", async () => testBroker());
});

describeRedisCluster("redis cluster flow progress", () => {
  if (!clusterAvailable) return;
  describeFlowProgress("redis-cluster", async () => clusterBroker());
});

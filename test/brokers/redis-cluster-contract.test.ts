import { describeAdminContract } from "./admin-contract.js";
import { describeBrokerContract } from "./contract.js";
import { clusterAvailable, clusterBroker, describeRedisCluster } from "./redis-cluster-env.js";

// The same suites as on one Redis, unchanged, on a six-node cluster: the suites' queues (default,
// other, q1...) hash to slots on different masters, so every cross-queue path is exercised.
describeRedisCluster("redis cluster broker contract", () => {
  if (!clusterAvailable) return;
  const factory = async (options: Parameters<typeof clusterBroker>[0]) => {
    const { broker, cleanup } = clusterBroker(options);
    return { broker, cleanup };
  };
  describeBrokerContract("redis-cluster", factory);
  describeAdminContract("redis-cluster", factory);
});

import { describeFlows } from "./flows-runtime.js";
import { describeRuntimeContract, type RuntimeBrokerFactory } from "./runtime-contract.js";
import { clusterAvailable, clusterBroker, describeRedisCluster } from "./redis-cluster-env.js";
import { uniquePrefix } from "./redis-env.js";

// As redis-runtime.test.ts, on the cluster: connections of one test share a prefix.
let prefix: string | undefined;
let open = 0;

describeRedisCluster("redis cluster runtime", () => {
  if (!clusterAvailable) return;
  const factory: RuntimeBrokerFactory = async () => {
    prefix ??= uniquePrefix();
    open++;
    const { broker, cleanup } = clusterBroker({ prefix });
    return {
      broker,
      cleanup: async () => {
        if (--open === 0) {
          prefix = undefined;
          await cleanup();
        } else {
          await broker.disconnect();
        }
      },
    };
  };
  describeRuntimeContract("redis-cluster", factory);
  describeFlows("redis-cluster", factory);
});

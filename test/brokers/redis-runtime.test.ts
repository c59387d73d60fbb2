import { describeFlows } from "./flows-runtime.js";
import { describeRuntimeContract, type RuntimeBrokerFactory } from "./runtime-contract.js";
import { describeRedis, redisAvailable, testBroker, uniquePrefix } from "./redis-env.js";

// Connections of one test share a prefix (as separate processes would share one Redis); each
// gets its own broker. The prefix is dropped with the test's last connection.
let prefix: string | undefined;
let open = 0;

describeRedis("redis runtime", () => {
  if (!redisAvailable) return;
  const factory: RuntimeBrokerFactory = async () => {
    prefix ??= uniquePrefix();
    open++;
    const { broker, cleanup } = testBroker({ prefix });
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
  describeRuntimeContract("redis", factory);
  describeFlows("redis", factory);
});

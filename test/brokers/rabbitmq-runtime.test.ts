import { RedisResultStore } from "../../src/results/redis-result-store.js";
import {
  describeRabbit,
  deletePrefix,
  rabbitAvailable,
  testBroker,
  uniquePrefix,
} from "./rabbitmq-env.js";
import {
  adminClient,
  deletePrefix as deleteRedisPrefix,
  redisAvailable,
  REDIS_URL,
} from "./redis-env.js";
import { describeFlows } from "./flows-runtime.js";
import { describeRuntimeContract, type RuntimeBrokerFactory } from "./runtime-contract.js";

// Connections of one test share a prefix (as separate processes would share one RabbitMQ), each
// with its own broker, and results in Redis under a prefix of the test's own. Both are dropped
// with the test's last connection.
let prefix: string | undefined;
let open = 0;

describeRabbit("rabbitmq runtime (results in Redis)", () => {
  if (!rabbitAvailable) return;
  const factory: RuntimeBrokerFactory = async () => {
    const shared = (prefix ??= uniquePrefix());
    open++;
    const { broker } = testBroker({ prefix: shared });
    const results = redisAvailable
      ? new RedisResultStore(REDIS_URL, { prefix: shared })
      : undefined;
    return {
      broker,
      ...(results ? { results } : {}),
      cleanup: async () => {
        await broker.disconnect();
        await results?.disconnect();
        if (--open > 0) return;
        prefix = undefined;
        await deletePrefix(shared);
        const admin = adminClient();
        try {
          if (redisAvailable) await deleteRedisPrefix(admin, shared);
        } finally {
          admin.disconnect();
        }
      },
    };
  };
  describeRuntimeContract("rabbitmq", factory);
  describeFlows("rabbitmq", factory);
});

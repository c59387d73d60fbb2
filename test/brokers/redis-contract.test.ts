import { describeAdminContract } from "./admin-contract.js";
import { describeBrokerContract } from "./contract.js";
import { redisAvailable, describeRedis, testBroker } from "./redis-env.js";

describeRedis("redis broker contract", () => {
  if (!redisAvailable) return;
  const factory = async (options: Parameters<typeof testBroker>[0]) => {
    const { broker, cleanup } = testBroker(options);
    return { broker, cleanup };
  };
  describeBrokerContract("redis", factory);
  describeAdminContract("redis", factory);
});

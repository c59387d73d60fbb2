import { describeBrokerContract } from "./contract.js";
import { redisAvailable, describeRedis, testBroker } from "./redis-env.js";

describeRedis("redis broker contract", () => {
  if (!redisAvailable) return;
  describeBrokerContract("redis", async (options) => {
    const { broker, cleanup } = testBroker(options);
    return { broker, cleanup };
  });
});

import { describeBrokerContract } from "./contract.js";
import { describeRabbit, rabbitAvailable, testBroker } from "./rabbitmq-env.js";

describeRabbit("rabbitmq broker contract", () => {
  if (!rabbitAvailable) return;
  describeBrokerContract("rabbitmq", async (options) => {
    const { broker, cleanup } = testBroker(options);
    return { broker, cleanup };
  });
});

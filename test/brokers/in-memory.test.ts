import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { describeBrokerContract } from "./contract.js";

describeBrokerContract("in-memory", async (options) => {
  const broker = new InMemoryMessageBroker({ ...options, leaseCheckIntervalMs: 50 });
  return { broker, cleanup: () => broker.disconnect() };
});

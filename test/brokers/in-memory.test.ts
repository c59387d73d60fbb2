import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { describeAdminContract } from "./admin-contract.js";
import { describeBrokerContract, type BrokerFactory } from "./contract.js";

const factory: BrokerFactory = async (options) => {
  const broker = new InMemoryMessageBroker({ ...options, leaseCheckIntervalMs: 50 });
  return { broker, cleanup: () => broker.disconnect() };
};

describeBrokerContract("in-memory", factory);
describeAdminContract("in-memory", factory);

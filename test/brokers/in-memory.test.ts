import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { describeAdminContract } from "./admin-contract.js";
import { describeBrokerContract, type BrokerFactory } from "./contract.js";
import { describeLimitsContract } from "./limits-contract.js";
import { describeLimitsRuntime } from "./limits-runtime.js";

const factory: BrokerFactory = async (options) => {
  const broker = new InMemoryMessageBroker({ ...options, leaseCheckIntervalMs: 50 });
  return { broker, cleanup: () => broker.disconnect() };
};

describeBrokerContract("in-memory", factory);
describeAdminContract("in-memory", factory);

// One broker is the store: every `open()` of a test gives that same broker.
const shared = async () => {
  const broker = new InMemoryMessageBroker({ leaseCheckIntervalMs: 50 });
  await broker.connect();
  return {
    open: async () => broker,
    cleanup: () => broker.disconnect(),
  };
};
describeLimitsContract("in-memory", shared);
describeLimitsRuntime("in-memory", shared);

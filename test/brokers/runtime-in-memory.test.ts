import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { describeRuntimeContract } from "./runtime-contract.js";

// One broker shared by every connection of a test, as one process would share it.
let shared: InMemoryMessageBroker | undefined;
describeRuntimeContract("in-memory", async () => {
  const broker = (shared ??= new InMemoryMessageBroker({ leaseCheckIntervalMs: 50 }));
  return {
    broker,
    cleanup: async () => {
      if (shared === broker) shared = undefined;
      await broker.disconnect();
    },
  };
});

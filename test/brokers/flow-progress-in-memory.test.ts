import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { describeFlowProgress } from "./flow-progress-runtime.js";

describeFlowProgress("in-memory", async () => {
  const broker = new InMemoryMessageBroker({ leaseCheckIntervalMs: 50 });
  return { broker, cleanup: () => broker.disconnect() };
});

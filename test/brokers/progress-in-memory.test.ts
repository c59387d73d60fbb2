import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { describeProgress } from "./progress-runtime.js";

describeProgress("in-memory", async () => {
  const broker = new InMemoryMessageBroker({ leaseCheckIntervalMs: 50 });
  return { broker, cleanup: () => broker.disconnect() };
});

import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { describeFlows } from "./flows-runtime.js";

describeFlows("in-memory", async () => {
  const broker = new InMemoryMessageBroker();
  return { broker, cleanup: () => broker.disconnect() };
});

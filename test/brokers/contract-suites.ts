/**
 * `repid-contract`: the test suites every broker of repid runs, unchanged, published for authors
 * of other brokers. Written for vitest: call them at the top level of a test file with a factory
 * that makes a fresh broker.
 * @example
 * // my-broker.test.ts
 * import { describeBrokerContract, describeRuntimeContract } from "repid-contract";
 * import { MyBroker } from "./my-broker.js";
 *
 * describeBrokerContract("my broker", async (options) => {
 *   const broker = new MyBroker({ maxStalls: options.maxStalls });
 *   return { broker, cleanup: () => broker.disconnect() };
 * });
 * describeRuntimeContract("my broker", async () => {
 *   const broker = new MyBroker();
 *   return { broker, cleanup: () => broker.disconnect() };
 * });
 * // Limits across consumers: `open()` gives another broker over the same store.
 * describeLimitsContract("my broker", async () => { ... return { open, cleanup }; });
 * describeLimitsRuntime("my broker", sameFactory);
 * describeFlows("my broker", runtimeFactory); // flows, on a broker with dedupe and results
 */
export {
  describeBrokerContract,
  type BrokerFactory,
  type ContractBrokerOptions,
} from "./contract.js";
export { describeRuntimeContract, type RuntimeBrokerFactory } from "./runtime-contract.js";
export { describeAdminContract } from "./admin-contract.js";
export { describeLimitsContract, type SharedBrokerFactory } from "./limits-contract.js";
export { describeLimitsRuntime } from "./limits-runtime.js";
export { describeFlows } from "./flows-runtime.js";

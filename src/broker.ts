/**
 * For authors of other brokers: the broker contract (the `MessageBroker` interface, the records it
 * passes, the capabilities a broker may declare, the optional admin operations) and the test
 * suites every broker of repid runs, unchanged (`describeAdminContract` for brokers with `admin`).
 *
 * The suites are written for vitest (an optional peer dependency of repid): call them at the top
 * level of a test file with a factory that makes a fresh broker.
 * @example
 * // my-broker.test.ts
 * import { describeBrokerContract, describeRuntimeContract } from "repid/broker";
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
 */
export type {
  BrokerCapabilities,
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  FailureInfo,
  KeepAlive,
  KeptResult,
  Message,
  MessageBroker,
  OutgoingMessage,
  PriorityLevel,
  QueueCounts,
  ReceiveOptions,
  ResultStore,
  Schedule,
  ScheduleInfo,
  Settlement,
  StoredResult,
} from "./brokers/broker.js";
export { FULL_CAPABILITIES, capabilitiesOf } from "./brokers/broker.js";
export type {
  BrokerAdmin,
  CancelMode,
  CancelOutcome,
  Cancelled,
  JobView,
  MessageState,
  Page,
  PageOptions,
  QueueInfo,
} from "./brokers/admin.js";
// The suites live with repid's own tests, which run them on every broker of this repository;
// this entry point only publishes them.
export {
  describeBrokerContract,
  type BrokerFactory,
  type ContractBrokerOptions,
} from "../test/brokers/contract.js";
export {
  describeRuntimeContract,
  type RuntimeBrokerFactory,
} from "../test/brokers/runtime-contract.js";
export { describeAdminContract } from "../test/brokers/admin-contract.js";

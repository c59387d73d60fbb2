/**
 * For authors of other brokers: the broker contract (the `MessageBroker` interface, the records it
 * passes, the capabilities a broker may declare, the optional admin operations). The test suites
 * every broker of repid runs are the development package `repid-contract` (they need vitest).
 * @example
 * import type { MessageBroker } from "repid/broker";
 *
 * export class MyBroker implements MessageBroker {
 *   // ...
 * }
 */
export type {
  BrokerCapabilities,
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  FailureInfo,
  HeldBy,
  JobUpdate,
  JobUpdateState,
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
  TopicLimits,
} from "./brokers/broker.js";
export { FULL_CAPABILITIES, capabilitiesOf } from "./brokers/broker.js";
export type {
  BrokerAdmin,
  CancelMode,
  CancelOutcome,
  Cancelled,
  FlowPlace,
  FlowStepView,
  JobView,
  MessageState,
  Page,
  PageOptions,
  QueueInfo,
} from "./brokers/admin.js";

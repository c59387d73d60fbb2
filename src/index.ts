/** The public API of repid. Every export is named here; nothing else is public. */
import "./core/zod-version.js";
export { Repid, type MagicOptions } from "./connection/repid.js";
export { Connection, type ConnectionOptions } from "./connection/connection.js";
export { Job, enqueueMany, type JobOptions } from "./producer/job.js";
export { JobHandle, type ResultDecoder } from "./producer/result.js";
export type { JobProgressUpdate } from "./producer/job-watch.js";
export { Queue, type QueueOptions } from "./producer/queue.js";
export {
  flow,
  Flow,
  FlowHandle,
  type Fits,
  type FlowEnqueueOptions,
  type FlowProgressUpdate,
  type FlowStep,
  type FlowStepOptions,
  type FlowStepRef,
  type FlowStepState,
  type ResultsOf,
} from "./producer/flow.js";
export { FlowFailedError, type FailedStep } from "./core/flow-plan.js";
export { Admin } from "./ops/admin.js";
export { InMemoryResultStore } from "./results/in-memory-result-store.js";
export type { HealthOptions } from "./ops/health-options.js";
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
export { Priority } from "./core/priority.js";
export {
  Router,
  type Actor,
  type ActorContext,
  type ActorContext as JobContext,
  type ActorArgsOf,
  type ActorFunction,
  type ActorOptions,
  type Upcasters,
} from "./worker/router.js";
export type { ConcurrencyLimit, KeyPath, RateLimit, TopicLimits } from "./core/limits.js";
export { Worker, type WorkerOptions, type WorkerRunner } from "./worker/worker.js";
export {
  defaultRetryPolicy,
  defaultRetryPolicyFactory,
  type DefaultRetryPolicyOptions,
  type RetryPolicy,
} from "./worker/retry-policy.js";
export { toMs, type Duration, type DurationString, type DurationUnit } from "./core/duration.js";
export { defaultLogger, silentLogger, type Logger } from "./core/logger.js";
export {
  MAX_HEADERS_BYTES,
  type EnqueueEvent,
  type Hooks,
  type JobInfo,
  type LifecycleEvent,
  type RunEvent,
  type RunOutcome,
} from "./core/hooks.js";
export {
  SCHEMA_HEADER,
  defineRegistry,
  type ActorDefinition,
  type Registry,
} from "./core/registry.js";
export {
  createClient,
  type ActorClient,
  type EnqueueOptions,
  type RegistryClient,
} from "./producer/registry-client.js";
export {
  InMemoryMessageBroker,
  type InMemoryBrokerOptions,
} from "./brokers/in-memory/in-memory-broker.js";
// The broker contract's records, as the runtime API hands them out; the whole contract is
// `repid/broker` (its test suites are the development package `repid-contract`).
export {
  FULL_CAPABILITIES,
  capabilitiesOf,
  type BrokerCapabilities,
  type ResultStore,
} from "./brokers/broker.js";
export type {
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  FailureInfo,
  KeepAlive,
  KeptResult,
  JobUpdate,
  JobUpdateState,
  Message,
  MessageBroker,
  OutgoingMessage,
  PriorityLevel,
  QueueCounts,
  ReceiveOptions,
  Schedule,
  ScheduleInfo,
  Settlement,
  StoredResult,
} from "./brokers/broker.js";
export {
  ActorAbortedError,
  ActorNotFoundError,
  BrokerError,
  CodegenError,
  EnqueueRefusedError,
  JobCancelledError,
  InvalidDurationError,
  InvalidOptionError,
  InvalidPayloadError,
  JobFailedError,
  JobExpiredError,
  JobTimeoutError,
  NoConnectionError,
  NoRetryError,
  NotSupportedError,
  NoResultStoreError,
  QueueNotDeclaredError,
  RepidError,
  ResultNotStoredError,
  ResultTimeoutError,
  PeerDependencyError,
  SchemaMismatchError,
  UnknownActorError,
  ValidationError,
  type RepidErrorCode,
  type ValidationIssue,
} from "./core/errors.js";

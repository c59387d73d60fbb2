import { NotSupportedError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";

/** Options of `RabbitMessageBroker`. */
export interface RabbitBrokerOptions {
  /** Prefix of every queue and exchange name. @defaultValue "repid" */
  readonly prefix?: string;
  /** Lease ends allowed before a message is dead-lettered as `STALLED`. @defaultValue 3 */
  readonly maxStalls?: number;
  /** AMQP heartbeat: RabbitMQ drops a silent connection after about twice this. @defaultValue 15 */
  readonly heartbeatSeconds?: number;
  /**
   * The connection's name as RabbitMQ shows it (`connection_name` client property), to find it in
   * `rabbitmqctl list_connections` or the management UI. @defaultValue "repid"
   */
  readonly connectionName?: string;
  /**
   * How long an enqueue (or a declaration) waits for a lost connection to come back before it
   * fails. @defaultValue 30_000
   */
  readonly operationTimeoutMs?: number;
  /** How often ended leases are looked for, in ms. @defaultValue 250 */
  readonly leaseCheckIntervalMs?: number;
  /** @defaultValue the logger of the first `Connection` built on it (`defaultLogger` until then) */
  readonly logger?: Logger;
}

const NAME = "RabbitMessageBroker";

/** What RabbitMQ cannot do, and what to do instead. */
const HINTS = {
  "periodic messages":
    "RabbitMQ cannot find a stored message by id to replace or list it; run periodic jobs on the Redis or in-memory broker, or enqueue each run from a scheduler",
  "schedules()": "it stores no periodic messages",
  "removeSchedule()": "it stores no periodic messages",
  results:
    "RabbitMQ has no key-value store; pass a result store: new Connection(broker, { results: new RedisResultStore(url) })",
} as const;

/** The error for an operation the RabbitMQ broker does not support. */
export function unsupported(operation: keyof typeof HINTS): NotSupportedError {
  return new NotSupportedError(NAME, operation, HINTS[operation]);
}

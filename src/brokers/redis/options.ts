import type { Logger } from "../../core/logger.js";
import type { ReplicaAcks } from "./replicas.js";

/** Options of `RedisMessageBroker` (its second constructor argument). */
export interface RedisBrokerOptions {
  /** Namespace of every key (`<prefix>:{<queue>}:...`); distinct prefixes never interact. @defaultValue "repid" */
  readonly prefix?: string;
  /** Lease expiries allowed before a message is dead-lettered as `STALLED`. @defaultValue 3 */
  readonly maxStalls?: number;
  /** Dead letters kept per queue; the oldest go first. @defaultValue 10_000 */
  readonly maxDeadLetters?: number;
  /** Longest single block of an idle `receive` before it looks again, in ms. @defaultValue 1000 */
  readonly maxBlockMs?: number;
  /**
   * How long `connect()` and a blocking connection may take to connect, in ms. Past it, `connect()`
   * fails with Redis's last error, and idle receives poll instead of blocking. @defaultValue 5000
   */
  readonly connectTimeoutMs?: number;
  /**
   * What to do when Redis's `maxmemory-policy` is not `noeviction` (an evicting Redis loses
   * jobs): `"warn"` logs an error at connect, `"refuse"` makes `connect()` fail. @defaultValue "warn"
   */
  readonly evictionPolicy?: "warn" | "refuse";
  /**
   * Makes `enqueue` wait until `replicas` replicas of each master written to have acknowledged
   * the new messages (Redis `WAIT`), at most `timeoutMs`; fewer acknowledgements fail the
   * enqueue with a `RedisBrokerError` of code `NOT_REPLICATED` (the messages may be stored:
   * enqueueing again with the same ids adds nothing twice). Narrows what a failover can lose:
   * see "Redis Cluster" in the README. @defaultValue undefined (no waiting)
   */
  readonly waitForReplicas?: ReplicaAcks;
  /** @defaultValue the logger of the first `Connection` built on it (`defaultLogger` until then) */
  readonly logger?: Logger;
}

import type { Logger } from "../../core/logger.js";

/** Options of `PostgresMessageBroker` (its second constructor argument). */
export interface PostgresBrokerOptions {
  /**
   * The schema holding the broker's tables and functions (a lowercase identifier); distinct
   * schemas never interact. @defaultValue "repid"
   */
  readonly schema?: string;
  /**
   * Create and migrate the schema at `connect()` (under an advisory lock: safe with many workers
   * starting at once). Set `false` when migrations run in a deploy step (`repid migrate
   * --postgres URL`); `connect()` then fails when the schema is not current. @defaultValue true
   */
  readonly migrate?: boolean;
  /** Lease expiries allowed before a message is dead-lettered as `STALLED`. @defaultValue 3 */
  readonly maxStalls?: number;
  /**
   * Dead letters kept per queue; the oldest go first (checked when a settlement dead-letters, and
   * when stalled messages are dead-lettered: for those, the value of the broker of the schema that
   * connected last applies). @defaultValue 10_000
   */
  readonly maxDeadLetters?: number;
  /**
   * Longest sleep of an idle `receive` before it looks again without a notification, in ms (a
   * safety net: notifications and due times wake it earlier). @defaultValue 5000
   */
  readonly sweepMs?: number;
  /**
   * Settlements after which this broker vacuums the messages table (checked every 5 s), so the
   * space of settled messages is reused even where autovacuum is off or slow; 0 leaves it to
   * autovacuum. Needs a role that owns the table. @defaultValue 10_000
   */
  readonly vacuumAfter?: number;
  /**
   * Connections of the pool the broker opens from a URL (not used with a pool), at least 2: one
   * is held for `LISTEN`. @defaultValue 10
   */
  readonly poolSize?: number;
  /**
   * How long a call may wait for a connection of the pool the broker opens from a URL (a new
   * one, or a free one when all are busy) before it fails with `PostgresBrokerError`; with your
   * own pool, its `connectionTimeoutMillis` applies. @defaultValue 10_000
   */
  readonly connectTimeoutMs?: number;
  /** @defaultValue the logger of the first `Connection` built on it (`defaultLogger` until then) */
  readonly logger?: Logger;
}

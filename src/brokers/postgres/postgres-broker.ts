import pg from "pg";
import { InvalidOptionError } from "../../core/errors.js";
import { AdoptedLogger, type Logger } from "../../core/logger.js";
import type {
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  KeepAlive,
  KeptResult,
  MessageBroker,
  OutgoingMessage,
  QueueCounts,
  ReceiveOptions,
  ScheduleInfo,
  Settlement,
  StoredResult,
  TopicLimits,
} from "../broker.js";
import type { BrokerAdmin, Cancelled } from "../admin.js";
import { PostgresAdmin } from "./admin.js";
import { encodeSettlement } from "./codec.js";
import { Notifications } from "./notifications.js";
import type { PostgresBrokerOptions } from "./options.js";
import { Enqueuer } from "./enqueuer.js";
import { isAckBatch } from "./settle-acks-sql.js";
import { PostgresBrokerError, wrapPg } from "./pg-errors.js";
import { Receiver } from "./receiver.js";
import { Leases } from "./leases.js";
import { portableConfig } from "./keep-alive.js";
import { Results } from "./results.js";
import { writeMaxDead } from "./recover-sql.js";
import { JobUpdates } from "./updates.js";
import { Maintenance } from "./maintenance.js";
import { checkSchema, migrate, SCHEMA_VERSION } from "./schema.js";
import { declareLimits, decodeCounts, limitRows } from "./limits.js";

/**
 * The PostgreSQL broker (on `pg`, node-postgres): messages are rows of one table in its own
 * schema, leased in batches with `SELECT ... FOR UPDATE SKIP LOCKED`, idle receivers woken by
 * `LISTEN/NOTIFY`. A message can be enqueued inside the caller's own transaction
 * (`OutgoingMessage.transaction`): it then commits or rolls back with the business data.
 * Concurrency and rate limits across consumers (`declareLimits`) are kept in tables of their own
 * and checked by the queue's takes (see ./limits-sql.ts); a queue without limits takes as before.
 * Creates and migrates its schema at `connect()`.
 * @example
 * const broker = new PostgresMessageBroker("postgres://app@127.0.0.1/app", { schema: "repid" });
 */
export class PostgresMessageBroker implements MessageBroker {
  readonly capabilities = {
    delays: true,
    uniqueIds: true,
    results: true,
    schedules: true,
    globalRunningCount: true,
    dedupe: true,
    limits: true,
    debounce: true,
    progress: true,
    transactions: true,
  } as const;
  readonly admin: BrokerAdmin;
  readonly #s: string;
  readonly #input: string | pg.Pool;
  readonly #options: PostgresBrokerOptions;
  readonly #maxStalls: number;
  readonly #maxDead: number;
  readonly #logger: Logger;
  readonly #adopted: AdoptedLogger | undefined;
  #pool: pg.Pool | undefined;
  #connecting: Promise<void> | undefined;
  #closed = true;
  readonly #notifications: Notifications;
  readonly #receiver: Receiver;
  readonly #results: Results;
  readonly #updates: JobUpdates;
  readonly #maintenance: Maintenance;
  readonly #enqueuer: Enqueuer;
  readonly #leases: Leases;
  /** Job updates (see `MessageBroker.publishUpdate`), kept in ./updates.ts. */
  readonly publishUpdate: JobUpdates["publish"];
  readonly readUpdate: JobUpdates["read"];
  readonly watchUpdates: JobUpdates["watch"];

  constructor(urlOrPool: string | pg.Pool, options: PostgresBrokerOptions = {}) {
    if (typeof urlOrPool !== "string" && !(urlOrPool instanceof pg.Pool))
      throw new InvalidOptionError("urlOrPool", "expected a postgres:// URL or a pg.Pool");
    // One connection is held for LISTEN: a pool of one would leave none for anything else.
    const max = typeof urlOrPool === "string" ? (options.poolSize ?? 10) : urlOrPool.options.max;
    if (max !== undefined && max < 2)
      throw new InvalidOptionError(
        typeof urlOrPool === "string" ? "poolSize" : "urlOrPool",
        `a pool of ${max} connection(s) is too small: the broker holds one for LISTEN and needs at least one more`,
      );
    this.#input = urlOrPool;
    this.#options = options;
    this.#s = checkSchema(options.schema ?? "repid");
    this.#maxStalls = options.maxStalls ?? 3;
    this.#maxDead = options.maxDeadLetters ?? 10_000;
    this.#adopted = options.logger ? undefined : new AdoptedLogger();
    this.#logger = options.logger ?? this.#adopted!;
    const pool = (): pg.Pool => this.#usePool();
    const closed = (): boolean => this.#closed;
    this.#enqueuer = new Enqueuer(pool, this.#s);
    this.#notifications = new Notifications(pool, this.#s, this.#logger);
    this.#leases = new Leases({
      pool,
      schema: this.#s,
      maxStalls: this.#maxStalls,
      logger: this.#logger,
      threadConfig: () =>
        typeof urlOrPool === "string"
          ? { connectionString: urlOrPool }
          : portableConfig(urlOrPool.options as unknown as Record<string, unknown>),
    });
    this.#receiver = new Receiver({
      pool,
      schema: this.#s,
      notifications: this.#notifications,
      maxStalls: this.#maxStalls,
      sweepMs: options.sweepMs ?? 5000,
      closed,
      ready: (consumer) => this.#leases.ready(consumer),
    });
    this.#results = new Results(pool, this.#s, this.#notifications, closed);
    this.#updates = new JobUpdates(pool, this.#s, this.#notifications);
    this.publishUpdate = this.#updates.publish;
    this.readUpdate = this.#updates.read;
    this.watchUpdates = this.#updates.watch;
    this.#maintenance = new Maintenance({
      pool,
      schema: this.#s,
      logger: this.#logger,
      sweep: () => Promise.all([this.#results.sweep(), this.#updates.sweep()]),
      vacuumAfter: options.vacuumAfter ?? 10_000,
    });
    this.admin = new PostgresAdmin(pool, this.#s, (queue) => this.counts(queue));
  }

  /** The schema this broker keeps its tables in. */
  get schema(): string {
    return this.#s;
  }

  useLogger(logger: Logger): void {
    this.#adopted?.adopt(logger);
  }

  connect(): Promise<void> {
    if (!this.#closed) return Promise.resolve();
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #open(): Promise<void> {
    const pool =
      typeof this.#input === "string"
        ? new pg.Pool({
            connectionString: this.#input,
            max: this.#options.poolSize ?? 10,
            // A starved pool fails the call instead of hanging it for ever.
            connectionTimeoutMillis: this.#options.connectTimeoutMs ?? 10_000,
          })
        : this.#input;
    if (typeof this.#input === "string") {
      // An idle client's error (the server restarted) must not crash the process.
      pool.on("error", (error) =>
        this.#logger.warn("repid: an idle Postgres connection failed", { error: error.message }),
      );
    }
    this.#pool = pool;
    try {
      await wrapPg("connecting", async () => {
        const client = await pool.connect();
        try {
          if (this.#options.migrate !== false) await migrate(client, this.#s);
          else await this.#checkVersion(client);
          // The cap recover() applies when stalls dead-letter (see ./recover-sql.ts). A role that
          // may not write it (granted the tables before the settings table existed) connects
          // anyway: recover() then keeps the cap stored, or the default.
          await client.query(writeMaxDead(this.#s), [this.#maxDead]).catch((error: unknown) => {
            if ((error as { code?: unknown }).code !== "42501") throw error;
            this.#logger.warn(
              "repid: this Postgres role may not write the dead-letter cap to the settings table; stalled messages are capped at the stored or default value",
              { schema: this.#s, error: String(error) },
            );
          });
        } finally {
          client.release();
        }
      });
      this.#closed = false;
      await wrapPg("listening", () => this.#notifications.start());
    } catch (error) {
      this.#closed = true;
      if (typeof this.#input === "string") await pool.end().catch(() => {});
      this.#pool = undefined;
      throw error;
    }
    this.#maintenance.start();
  }

  async #checkVersion(client: pg.PoolClient): Promise<void> {
    const { rows } = await client
      .query<{ v: number | null }>(`SELECT max(version) AS v FROM ${this.#s}.migrations`)
      .catch(() => ({ rows: [{ v: null }] }));
    const found = rows[0]?.v ?? 0;
    if (found < SCHEMA_VERSION)
      throw new PostgresBrokerError(
        "SCHEMA_VERSION",
        `Postgres broker: schema "${this.#s}" is at version ${found}, this repid needs ${SCHEMA_VERSION}: run \`repid migrate --postgres URL --schema ${this.#s}\` (or leave \`migrate\` on)`,
      );
  }

  async disconnect(): Promise<void> {
    if (this.#connecting) await this.#connecting.catch(() => {});
    if (this.#closed) return;
    this.#closed = true;
    this.#maintenance.stop();
    await this.#notifications.stop();
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool && typeof this.#input === "string") await pool.end();
  }

  #usePool(): pg.Pool {
    if (!this.#pool)
      throw new PostgresBrokerError("NOT_CONNECTED", "Postgres broker: call connect() first");
    return this.#pool;
  }

  /** A statement that may run twice (so it is tried again on a lost connection). */
  async #sql<R extends pg.QueryResultRow>(
    doing: string,
    text: string,
    values: unknown[] = [],
  ): Promise<R[]> {
    return wrapPg(doing, async () => (await this.#usePool().query<R>(text, values)).rows, true);
  }

  async declareQueue(queue: string): Promise<void> {
    await this.#sql(
      "declaring a queue",
      `INSERT INTO ${this.#s}.queues (name) VALUES ($1) ON CONFLICT DO NOTHING`,
      [queue],
    );
  }

  async flushQueue(queue: string): Promise<void> {
    await this.#sql(
      "flushing a queue",
      `WITH m AS (DELETE FROM ${this.#s}.messages WHERE queue = $1), ${limitRows(this.#s, false)}
       DELETE FROM ${this.#s}.dead WHERE queue = $1`,
      [queue],
    );
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.#sql(
      "deleting a queue",
      `WITH ${limitRows(this.#s, true)} SELECT ${this.#s}.delete_queue($1)`,
      [queue],
    );
  }

  async queueExists(queue: string): Promise<boolean> {
    const rows = await this.#sql(
      "looking up a queue",
      `SELECT 1 FROM ${this.#s}.queues WHERE name = $1`,
      [queue],
    );
    return rows.length > 0;
  }

  enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    return this.#enqueuer.enqueue(messages);
  }

  receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    return this.#receiver.receive(queues, options);
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    if (settlements.length === 0) return [];
    // Not tried again: a settlement applied before the connection died would read as refused.
    const batch = JSON.stringify(settlements.map(encodeSettlement));
    const { rows } = await wrapPg("settling", () =>
      isAckBatch(settlements)
        ? this.#usePool().query<{ applied: boolean[] }>(
            `SELECT ${this.#s}.settle_acks($1::jsonb) AS applied`,
            [batch],
          )
        : this.#usePool().query<{ applied: boolean[] }>(
            `SELECT ${this.#s}.settle($1::jsonb, $2) AS applied`,
            [batch, this.#maxDead],
          ),
    );
    this.#maintenance.settled(settlements.length);
    return rows[0]!.applied;
  }

  renew(deliveries: readonly Delivery[], leaseMs: number): Promise<(boolean | Cancelled)[]> {
    return this.#leases.renew(deliveries, leaseMs);
  }

  heartbeat(consumer: string, queues: readonly string[], ttlMs: number): Promise<void> {
    return this.#leases.heartbeat(consumer, queues, ttlMs);
  }

  /** Heartbeats from a worker thread, which an event loop blocked by an actor does not stop. */
  keepAlive(consumer: string, queues: readonly string[], ttlMs: number): KeepAlive {
    return this.#leases.keepAlive(consumer, queues, ttlMs);
  }

  async schedules(queue: string): Promise<ScheduleInfo[]> {
    const rows = await this.#sql<{
      id: string;
      topic: string;
      schedule: ScheduleInfo["schedule"];
      state: ScheduleInfo["state"];
      next: string;
    }>(
      "listing schedules",
      `SELECT id, topic, schedule, state, coalesce(execute_at, enqueued_at) AS next
         FROM ${this.#s}.messages WHERE queue = $1 AND schedule IS NOT NULL
         ORDER BY id COLLATE "C"`,
      [queue],
    );
    return rows.map((r) => ({
      id: r.id,
      queue,
      topic: r.topic,
      schedule: r.schedule,
      nextRunAt: Number(r.next),
      state: r.state,
    }));
  }

  async removeSchedule(queue: string, id: string): Promise<boolean> {
    const rows = await this.#sql(
      "removing a schedule",
      `DELETE FROM ${this.#s}.messages WHERE queue = $1 AND id = $2 AND schedule IS NOT NULL
         RETURNING 1`,
      [queue, id],
    );
    return rows.length > 0;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const rows = await this.#sql<{ counts: QueueCounts }>(
      "counting",
      `SELECT ${this.#s}.counts($1, $2) AS counts`,
      [queue, this.#maxStalls],
    );
    return decodeCounts(rows[0]!.counts);
  }

  /** @see MessageBroker.declareLimits */
  declareLimits(queue: string, topic: string, limits: TopicLimits | undefined): Promise<void> {
    return declareLimits(this.#usePool(), this.#s, queue, topic, limits);
  }

  async deadLetters(
    queue: string,
    options: { readonly limit?: number } = {},
  ): Promise<DeadLetter[]> {
    const rows = await this.#sql<{
      message: DeadLetter["message"];
      error: DeadLetter["error"];
      failed_at: string;
    }>(
      "listing dead letters",
      `SELECT message, error, failed_at FROM ${this.#s}.dead
         WHERE queue = $1 ORDER BY seq LIMIT $2`,
      [queue, options.limit ?? null],
    );
    return rows.map((r) => ({ message: r.message, error: r.error, failedAt: Number(r.failed_at) }));
  }

  storeResult(id: string, result: KeptResult): Promise<void> {
    return this.#results.store(id, result);
  }

  readResult(id: string): Promise<StoredResult | undefined> {
    return this.#results.read(id);
  }

  waitForResult(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    return this.#results.wait(id, options);
  }
}

/**
 * Leases and liveness of the Postgres broker: lease renewals (fenced by token, answering a
 * cancellation), heartbeats, and `keepAlive` (heartbeats from the keep-alive thread, see
 * ./keep-alive.ts, or from a timer here when the pool's settings cannot cross into a thread).
 */
import type pg from "pg";
import type { Logger } from "../../core/logger.js";
import type { Cancelled, CancelMode } from "../admin.js";
import type { Delivery, KeepAlive } from "../broker.js";
import { startKeepAlive, type PortableConfig } from "./keep-alive.js";
import { wrapPg } from "./pg-errors.js";

export interface LeaseDeps {
  readonly pool: () => pg.Pool;
  readonly schema: string;
  readonly maxStalls: number;
  readonly logger: Logger;
  /** How the keep-alive thread reaches the database, or undefined to beat on this thread. */
  readonly threadConfig: () => PortableConfig | undefined;
}

export class Leases {
  readonly #deps: LeaseDeps;
  readonly #s: string;
  /** First heartbeats of `keepAlive` still being written: a receive waits for its consumer's. */
  readonly #first = new Map<string, Promise<void>>();

  constructor(deps: LeaseDeps) {
    this.#deps = deps;
    this.#s = deps.schema;
  }

  async #sql<R extends pg.QueryResultRow>(doing: string, text: string, values: unknown[]) {
    return wrapPg(doing, async () => (await this.#deps.pool().query<R>(text, values)).rows, true);
  }

  async renew(deliveries: readonly Delivery[], leaseMs: number): Promise<(boolean | Cancelled)[]> {
    if (deliveries.length === 0) return [];
    const rows = await this.#sql<{
      queue: string;
      id: string;
      token: string;
      cancel: string | null;
    }>(
      "renewing leases",
      `UPDATE ${this.#s}.messages m SET lease_until = ${this.#s}.now_ms() + $4
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS d (queue, id, token)
         WHERE m.queue = d.queue AND m.id = d.id AND m.token = d.token AND m.state = 'running'
         RETURNING m.queue, m.id, m.token::text AS token, m.cancel`,
      [
        deliveries.map((d) => d.message.queue),
        deliveries.map((d) => d.message.id),
        deliveries.map((d) => d.token),
        Math.max(1, Math.round(leaseMs)),
      ],
    );
    const held = new Map(rows.map((r) => [`${r.queue}\0${r.id}\0${r.token}`, r.cancel]));
    return deliveries.map((d) => {
      const cancel = held.get(`${d.message.queue}\0${d.message.id}\0${d.token}`);
      if (cancel === undefined) return false;
      return cancel === null ? true : { cancelled: cancel as CancelMode };
    });
  }

  async heartbeat(consumer: string, queues: readonly string[], ttlMs: number): Promise<void> {
    if (ttlMs > 0) {
      await this.#sql(
        "writing a heartbeat",
        `INSERT INTO ${this.#s}.consumers (name, expires_at) VALUES ($1, ${this.#s}.now_ms() + $2)
           ON CONFLICT (name) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
        [consumer, Math.round(ttlMs)],
      );
      return;
    }
    // Removed: its leases end now (and waiting receivers hear of the messages that came back).
    await this.#sql("removing a heartbeat", `DELETE FROM ${this.#s}.consumers WHERE name = $1`, [
      consumer,
    ]);
    await this.#sql("recovering leases", `SELECT ${this.#s}.recover($1, $2, ${this.#s}.now_ms())`, [
      queues,
      this.#deps.maxStalls,
    ]);
  }

  keepAlive(consumer: string, queues: readonly string[], ttlMs: number): KeepAlive {
    const { logger } = this.#deps;
    // Written at once from here, so that the consumer's first receive finds it.
    const first = this.heartbeat(consumer, queues, ttlMs).catch((error: unknown) =>
      logger.error("repid: writing the worker's heartbeat failed", { error: String(error) }),
    );
    this.#first.set(consumer, first);
    void first.then(() => this.#first.get(consumer) === first && this.#first.delete(consumer));
    const config = this.#deps.threadConfig();
    const beating = config
      ? startKeepAlive(config, this.#s, consumer, ttlMs, logger)
      : this.#timer(consumer, queues, ttlMs);
    return {
      stop: async () => {
        await first;
        await beating.stop();
        await this.heartbeat(consumer, queues, 0);
      },
    };
  }

  /** Resolves once `consumer`'s first `keepAlive` heartbeat is written (at once if none is due). */
  ready(consumer: string | undefined): Promise<void> | undefined {
    return consumer === undefined ? undefined : this.#first.get(consumer);
  }

  #timer(consumer: string, queues: readonly string[], ttlMs: number): KeepAlive {
    let beating = false;
    const timer = setInterval(
      () => {
        if (beating) return;
        beating = true;
        this.heartbeat(consumer, queues, ttlMs)
          .catch((error: unknown) =>
            this.#deps.logger.error("repid: writing the worker's heartbeat failed", {
              error: String(error),
            }),
          )
          .finally(() => (beating = false));
      },
      Math.max(50, Math.floor(ttlMs / 3)),
    );
    timer.unref();
    return { stop: async () => clearInterval(timer) };
  }
}

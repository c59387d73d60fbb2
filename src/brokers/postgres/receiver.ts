/**
 * `receive` of the Postgres broker: one `take(...)` call leases a batch (see ./take-sql.ts);
 * when it finds nothing, the receiver sleeps until a ready notification of one of its queues,
 * the next time something becomes due by itself (a delayed message, a lease end, a holder's
 * heartbeat expiry: `next_wake`), or the safety sweep, whichever comes first.
 */
import type pg from "pg";
import type { Delivery, ReceiveOptions } from "../broker.js";
import { deliveries, type LeasedRow } from "./codec.js";
import type { Notifications } from "./notifications.js";
import { connectionLost, neverSent, wrapPg } from "./pg-errors.js";
import { Wake } from "./wake.js";

/** Lost leases are looked for at most this often by busy receivers (always after a sleep). */
const RECOVER_EVERY_MS = 250;
/** How long a receive keeps looking while the server is away before it fails. */
const AWAY_MS = 5_000;
/** Its pause between looks then (the LISTEN connection coming back wakes it earlier). */
const AWAY_RETRY_MS = 200;

/** A take that failed because the connection was lost or could not be opened. */
function serverAway(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && (connectionLost(cause) || neverSent(cause));
}

export interface ReceiverDeps {
  readonly pool: () => pg.Pool;
  readonly schema: string;
  readonly notifications: Notifications;
  readonly maxStalls: number;
  /** Longest sleep of an idle receiver. */
  readonly sweepMs: number;
  readonly closed: () => boolean;
  /** Resolves once `consumer`'s first heartbeat is written, when one is on its way. */
  readonly ready: (consumer: string | undefined) => Promise<void> | undefined;
}

export class Receiver {
  readonly #deps: ReceiverDeps;
  #recoveredAt = 0;

  constructor(deps: ReceiverDeps) {
    this.#deps = deps;
  }

  async receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    const deps = this.#deps;
    await deps.ready(options.consumer);
    let slept = false;
    let awaySince: number | undefined;
    for (;;) {
      if (deps.closed()) return [];
      const wake = new Wake();
      const stop = deps.notifications.onReady(queues, wake);
      try {
        let taken: Delivery[];
        try {
          taken = await this.#take(queues, options, slept);
        } catch (error) {
          // The server is away (restarting, failing over): look again as soon as the LISTEN
          // connection is back (its reopening wakes every waiter) or after a short pause, for a
          // while, instead of failing the receive (its caller would wait a second or more).
          if (!serverAway(error)) throw error;
          awaySince ??= Date.now();
          if (Date.now() - awaySince > AWAY_MS) throw error;
          await wake.sleep(AWAY_RETRY_MS, options.signal);
          if (options.signal?.aborted) return [];
          continue;
        }
        awaySince = undefined;
        if (taken.length > 0 || options.signal?.aborted) return taken;
        if (deps.closed()) return [];
        // The sleep starts now: a notification that arrives while the next due time is being
        // asked for ends it at once; the answer only shortens it.
        let failed: { error: unknown } | undefined;
        const sleeping = wake.sleep(this.#sweepMs(), options.signal);
        this.#idleMs(queues).then(
          (ms) => wake.shorten(ms),
          (error: unknown) => {
            failed = { error };
            wake.fire();
          },
        );
        await sleeping;
        if (failed) throw failed.error;
        if (options.signal?.aborted) return [];
        // Woken by a notification, a message is ready: the take goes straight for it (lost
        // leases are still looked for every RECOVER_EVERY_MS). Woken by the clock, something
        // became due by itself (a lease end, a holder's expiry): the take recovers first.
        slept = !wake.fired;
      } finally {
        stop();
      }
    }
  }

  async #take(queues: readonly string[], options: ReceiveOptions, force: boolean) {
    const now = Date.now();
    const recover = force || now - this.#recoveredAt >= RECOVER_EVERY_MS;
    if (recover) this.#recoveredAt = now;
    const { rows } = await wrapPg("receiving", () =>
      this.#deps
        .pool()
        .query<LeasedRow>(`SELECT * FROM ${this.#deps.schema}.take($1, $2, $3, $4, $5, $6)`, [
          queues,
          options.max,
          Math.max(1, Math.round(options.leaseMs)),
          options.consumer ?? null,
          recover,
          this.#deps.maxStalls,
        ]),
    );
    return deliveries(rows);
  }

  /** The longest sleep: the safety sweep, short while notifications are not heard. */
  #sweepMs(): number {
    return this.#deps.notifications.listening ? this.#deps.sweepMs : 250;
  }

  /** How long an idle receiver may sleep before something becomes due without a notification. */
  async #idleMs(queues: readonly string[]): Promise<number> {
    const sweep = this.#sweepMs();
    const { rows } = await wrapPg(
      "receiving",
      () =>
        this.#deps
          .pool()
          .query<{ now: string; wake: string | null }>(
            `SELECT * FROM ${this.#deps.schema}.next_wake($1)`,
            [queues],
          ),
      true,
    );
    const row = rows[0];
    if (!row || row.wake === null) return sweep;
    return Math.min(sweep, Math.max(0, Number(row.wake) - Number(row.now)) + 2);
  }
}

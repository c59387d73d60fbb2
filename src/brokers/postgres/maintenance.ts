/**
 * The broker's housekeeping, on one unref'd timer: expired results, job updates and dedupe
 * windows are deleted, and the messages table is vacuumed once this broker has settled enough
 * messages since the last time. Every message is inserted, updated and deleted within moments;
 * without a vacuum the space of settled rows is never reused and the table grows with every job
 * ever run (autovacuum may be off, or too slow for a busy queue). `VACUUM (SKIP_LOCKED)` skips
 * the table while another broker vacuums it, and a broker whose role may not vacuum it stops
 * trying after one warning.
 */
import type pg from "pg";
import type { Logger } from "../../core/logger.js";

const TICK_MS = 5_000;
/** Expired rows are swept every this many ticks. */
const SWEEP_EVERY = 6;

export interface MaintenanceDeps {
  readonly pool: () => pg.Pool;
  readonly schema: string;
  readonly logger: Logger;
  /** Deletes expired results, updates and dedupe windows. */
  readonly sweep: () => Promise<unknown>;
  /** Settlements after which the messages table is vacuumed; 0 never vacuums. */
  readonly vacuumAfter: number;
}

export class Maintenance {
  readonly #deps: MaintenanceDeps;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #settled = 0;
  #vacuuming = false;
  #mayVacuum = true;

  constructor(deps: MaintenanceDeps) {
    this.#deps = deps;
  }

  start(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** `n` messages were settled (acked, requeued or dead-lettered) by this broker. */
  settled(n: number): void {
    this.#settled += n;
  }

  #tick(): void {
    if (++this.#ticks % SWEEP_EVERY === 0) {
      this.#deps.sweep().catch((error: unknown) =>
        this.#deps.logger.warn("repid: sweeping expired Postgres results and updates failed", {
          error: String(error),
        }),
      );
    }
    const after = this.#deps.vacuumAfter;
    if (after > 0 && this.#settled >= after && this.#mayVacuum && !this.#vacuuming) {
      void this.vacuum();
    }
  }

  /** Vacuums the messages table now (what the timer does once enough messages were settled). */
  async vacuum(): Promise<void> {
    this.#vacuuming = true;
    this.#settled = 0;
    try {
      await this.#deps.pool().query(`VACUUM (SKIP_LOCKED) ${this.#deps.schema}.messages`);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // 42501: not the table's owner. Anything else may pass (a lost connection).
      if (code === "42501") this.#mayVacuum = false;
      this.#deps.logger.warn("repid: vacuuming the Postgres messages table failed", {
        error: String(error),
        ...(code === "42501"
          ? { hint: "leave it to autovacuum, or grant the role ownership" }
          : {}),
      });
    } finally {
      this.#vacuuming = false;
    }
  }
}

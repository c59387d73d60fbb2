/**
 * Job results in `<schema>.results`: stored with a time to live (read past it as absent, swept
 * later), awaited through the `<schema>.results` notification (see ./notifications.ts), never
 * by polling.
 */
import type pg from "pg";
import type { KeptResult, StoredResult } from "../broker.js";
import type { Notifications } from "./notifications.js";
import { wrapPg } from "./pg-errors.js";
import { Wake } from "./wake.js";

export class Results {
  readonly #pool: () => pg.Pool;
  readonly #s: string;
  readonly #notifications: Notifications;
  readonly #closed: () => boolean;

  constructor(pool: () => pg.Pool, s: string, notifications: Notifications, closed: () => boolean) {
    this.#pool = pool;
    this.#s = s;
    this.#notifications = notifications;
    this.#closed = closed;
  }

  store(id: string, result: KeptResult): Promise<void> {
    return wrapPg("storing a result", async () => {
      await this.#pool().query(`SELECT ${this.#s}.store_result($1, $2, $3, ${this.#s}.now_ms())`, [
        id,
        JSON.stringify(result.stored),
        Math.round(result.ttlMs),
      ]);
    });
  }

  read(id: string): Promise<StoredResult | undefined> {
    return wrapPg(
      "reading a result",
      async () => {
        const { rows } = await this.#pool().query<{ stored: StoredResult }>(
          `SELECT stored FROM ${this.#s}.results
             WHERE id = $1 AND expires_at > ${this.#s}.now_ms()`,
          [id],
        );
        return rows[0]?.stored;
      },
      true,
    );
  }

  async wait(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    const until = Date.now() + options.timeoutMs;
    for (;;) {
      // Registered before reading: a result stored in between still wakes this waiter.
      const wake = new Wake();
      const stop = this.#notifications.onResult(id, wake);
      try {
        const found = await this.read(id);
        if (found !== undefined) return found;
        const left = until - Date.now();
        if (left <= 0 || options.signal?.aborted || this.#closed()) return undefined;
        await wake.sleep(left, options.signal);
        if (!wake.fired || this.#closed()) return undefined;
      } finally {
        stop();
      }
    }
  }

  /** Deletes expired results and ended dedupe windows. */
  async sweep(): Promise<void> {
    await this.#pool().query(
      `DELETE FROM ${this.#s}.results WHERE expires_at <= ${this.#s}.now_ms();
       DELETE FROM ${this.#s}.dedupe WHERE until <= ${this.#s}.now_ms()`,
    );
  }
}

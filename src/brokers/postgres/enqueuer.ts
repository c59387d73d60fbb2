/**
 * `enqueue` of the Postgres broker: concurrent single-queue calls share one statement
 * (./enqueue-batches.ts); messages in a caller's transaction go through that caller's client
 * (./transactions.ts); a batch without per-message rules takes the set-based `enqueue_plain`
 * (./enqueue-sql.ts), any other the per-message `enqueue` (./take-sql.ts).
 */
import type pg from "pg";
import type { EnqueueOutcome, OutgoingMessage } from "../broker.js";
import { encodeMessage } from "./codec.js";
import { EnqueueBatches } from "./enqueue-batches.js";
import { createdFlags, isPlainBatch } from "./enqueue-sql.js";
import { wrapPg } from "./pg-errors.js";
import { checkClient, enqueueGroups, type TransactionClient } from "./transactions.js";

export class Enqueuer {
  readonly #pool: () => pg.Pool;
  readonly #s: string;
  readonly #batches = new EnqueueBatches((messages) => this.#insert(this.#pool(), messages));

  constructor(pool: () => pg.Pool, schema: string) {
    this.#pool = pool;
    this.#s = schema;
  }

  async enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    if (messages.length === 0) return [];
    if (EnqueueBatches.fits(messages)) {
      const flags = await this.#batches.enqueue(messages);
      return messages.map((m, i) => ({ id: m.id, created: flags[i]! }));
    }
    const created = new Array<boolean>(messages.length);
    for (const group of enqueueGroups(messages)) {
      if (group.client !== undefined) checkClient(group.client);
      const flags = await this.#insert(
        group.client ?? this.#pool(),
        group.indexes.map((i) => messages[i]!),
      );
      group.indexes.forEach((i, k) => (created[i] = flags[k]!));
    }
    return messages.map((m, i) => ({ id: m.id, created: created[i]! }));
  }

  /** Stores `messages` in one statement on `client`; a created flag per message. */
  async #insert(
    client: TransactionClient,
    messages: readonly OutgoingMessage[],
  ): Promise<boolean[]> {
    const batch = JSON.stringify(messages.map(encodeMessage));
    if (isPlainBatch(messages)) {
      const { rows } = await wrapPg("enqueueing", () =>
        client.query<{ queue: string; id: string }>(
          `SELECT * FROM ${this.#s}.enqueue_plain($1::jsonb)`,
          [batch],
        ),
      );
      return createdFlags(messages, rows);
    }
    const { rows } = await wrapPg("enqueueing", () =>
      client.query<{ created: boolean[] }>(`SELECT ${this.#s}.enqueue($1::jsonb) AS created`, [
        batch,
      ]),
    );
    return rows[0]!.created;
  }
}

/**
 * Enqueueing in the caller's transaction (`OutgoingMessage.transaction`): messages are grouped
 * by the client they go through, each group one `enqueue(jsonb)` call on that client (the
 * caller's open transaction) or, without one, on the broker's pool.
 */
import type { OutgoingMessage } from "../broker.js";
import { InvalidOptionError } from "../../core/errors.js";

/** What an enqueue needs of a connection: a `pg.Client`, `pg.PoolClient` or `pg.Pool`. */
export interface TransactionClient {
  query<R>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export interface EnqueueGroup {
  /** The caller's client, or undefined for the broker's pool. */
  readonly client: TransactionClient | undefined;
  /** Positions of its messages in the batch, in order. */
  readonly indexes: number[];
}

/** The batch split by transaction, in order of first appearance. */
export function enqueueGroups(messages: readonly OutgoingMessage[]): EnqueueGroup[] {
  const first = messages[0]!.transaction;
  if (messages.every((m) => m.transaction === first)) {
    return [{ client: first as TransactionClient | undefined, indexes: messages.map((_, i) => i) }];
  }
  const groups = new Map<unknown, EnqueueGroup>();
  messages.forEach((m, i) => {
    let group = groups.get(m.transaction);
    if (!group) {
      group = { client: m.transaction as TransactionClient | undefined, indexes: [] };
      groups.set(m.transaction, group);
    }
    group.indexes.push(i);
  });
  return [...groups.values()];
}

/** A `transaction` must be a connected pg client (something with `query`). */
export function checkClient(client: unknown): asserts client is TransactionClient {
  if (typeof (client as { query?: unknown } | null)?.query !== "function") {
    throw new InvalidOptionError(
      "transaction",
      "expected a pg.Client or pg.PoolClient inside BEGIN (the client you run your own queries on)",
    );
  }
}

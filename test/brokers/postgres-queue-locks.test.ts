/**
 * No message outlives its queue without the foreign key (migration 8): a queue deleted while a
 * transaction is enqueueing into it waits for that transaction, then takes its messages with it,
 * on the set-based way in and on the per-message one; an enqueue to a queue deleted before fails
 * as not declared.
 */
import pg from "pg";
import { QueueNotDeclaredError } from "repid";
import { PostgresMessageBroker } from "repid/postgres";
import { afterEach, expect, it } from "vitest";
import { message, waitFor } from "./contract.js";
import { describePostgres, dropSchema, POSTGRES_URL, uniqueSchema } from "./postgres-env.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(): Promise<{ broker: PostgresMessageBroker; schema: string; pool: pg.Pool }> {
  const schema = uniqueSchema();
  const broker = new PostgresMessageBroker(POSTGRES_URL, { schema });
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 3 });
  cleanups.push(async () => {
    await broker.disconnect();
    await pool.end();
    await dropSchema(schema);
  });
  await broker.connect();
  await broker.declareQueue("doomed");
  return { broker, schema, pool };
}

async function rowsOf(pool: pg.Pool, schema: string, queue: string): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM ${schema}.messages WHERE queue = $1`,
    [queue],
  );
  return rows[0].n as number;
}

describePostgres("postgres queue locks", () => {
  // An id twice in a batch sends it through the per-message way in (no dedupe window: its table
  // keeps a foreign key of its own, which would lock the queue anyway).
  for (const [way, ids] of [
    ["set-based", ["m-1", "m-2", "m-3"] as string[]],
    ["per-message", ["m-1", "m-2", "m-1"] as string[]],
  ] as const) {
    it(`a queue deleted during a transaction's ${way} enqueue waits for its commit, then takes its messages`, async () => {
      const { broker, schema, pool } = await open();
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const outcomes = await broker.enqueue(
          ids.map((id) => message({ queue: "doomed", id, transaction: client })),
        );
        expect(outcomes.map((o) => o.created)).toEqual(ids.map((id, i) => ids.indexOf(id) === i));
        const deleting = broker.deleteQueue("doomed");
        // The deletion waits on the queue row the enqueue locked.
        await waitFor(async () => {
          const { rows } = await pool.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE wait_event_type = 'Lock' AND query LIKE '%delete_queue%'`,
          );
          return rows[0].n > 0;
        });
        await client.query("COMMIT");
        await deleting;
      } finally {
        client.release();
      }
      expect(await rowsOf(pool, schema, "doomed")).toBe(0);
      expect(await broker.queueExists("doomed")).toBe(false);
      await expect(broker.enqueue([message({ queue: "doomed" })])).rejects.toBeInstanceOf(
        QueueNotDeclaredError,
      );
      await expect(
        broker.enqueue([
          message({ queue: "doomed", id: "x" }),
          message({ queue: "doomed", id: "x" }),
        ]),
      ).rejects.toBeInstanceOf(QueueNotDeclaredError);
      expect(await rowsOf(pool, schema, "doomed")).toBe(0);
    });
  }
});

/**
 * A take reads the ready index in its order and stops after the batch, whatever the backlog:
 * the executor's own plan (auto_explain, ANALYZE) shows how many index entries a take of 10 read
 * from a backlog of 3,000. With one queue and with several (strict priority, then FIFO, across
 * the queues).
 */
import pg from "pg";
import { PostgresMessageBroker } from "repid/postgres";
import { afterEach, expect, it } from "vitest";
import { message } from "./contract.js";
import { describePostgres, dropSchema, POSTGRES_URL, uniqueSchema } from "./postgres-env.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(): Promise<{ broker: PostgresMessageBroker; schema: string }> {
  const schema = uniqueSchema();
  const broker = new PostgresMessageBroker(POSTGRES_URL, { schema });
  cleanups.push(async () => {
    await broker.disconnect();
    await dropSchema(schema);
  });
  await broker.connect();
  return { broker, schema };
}

/** A client whose statements' plans, nested ones included, come back with their row counts. */
async function explaining(): Promise<{ client: pg.Client; plans: string[] }> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  cleanups.push(() => client.end());
  const plans: string[] = [];
  client.on("notice", (n) => {
    if (n.message?.includes("plan:")) plans.push(n.message);
  });
  await client.query("LOAD 'auto_explain'");
  await client.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
    SET auto_explain.log_nested_statements = on; SET client_min_messages = log`);
  return { client, plans };
}

/** Rows each scan of the ready index returned, over the plans of one take. */
function readyIndexRows(plans: readonly string[]): number[] {
  return plans.flatMap((p) =>
    [...p.matchAll(/Index Scan using messages_ready on [^\n]*rows=(\d+) loops=(\d+)/g)].map(
      (m) => Number(m[1]) * Number(m[2]),
    ),
  );
}

async function take(client: pg.Client, schema: string, queues: string[], max: number) {
  const { rows } = await client.query<{ id: string; queue: string }>(
    `SELECT * FROM ${schema}.take($1, $2, 60000, NULL, false, 3)`,
    [queues, max],
  );
  return rows.map((r) => `${r.queue}/${r.id}`);
}

describePostgres("postgres take", () => {
  it("one queue: a take of 10 from a backlog of 3,000 reads 10 entries of the ready index", async () => {
    const { broker, schema } = await open();
    await broker.declareQueue("default");
    const ids = Array.from({ length: 3000 }, (_, i) => `m-${String(i).padStart(4, "0")}`);
    await broker.enqueue(ids.map((id) => message({ id })));
    const { client, plans } = await explaining();
    expect(await take(client, schema, ["default"], 10)).toEqual(
      ids.slice(0, 10).map((id) => `default/${id}`),
    );
    const read = readyIndexRows(plans);
    expect(read.length).toBeGreaterThan(0);
    expect(Math.max(...read)).toBeLessThanOrEqual(10);
  });

  it("several queues: strict priority then FIFO across them, reading at most the batch per queue", async () => {
    const { broker, schema } = await open();
    await broker.declareQueue("a");
    await broker.declareQueue("b");
    const filler = (queue: string) =>
      Array.from({ length: 1500 }, (_, i) =>
        message({ queue, id: `${queue}-low-${i}`, priority: 2 }),
      );
    await broker.enqueue(filler("a"));
    await broker.enqueue(filler("b"));
    await broker.enqueue([
      message({ queue: "b", id: "b-high-1", priority: 0 }),
      message({ queue: "a", id: "a-high-1", priority: 0 }),
      message({ queue: "a", id: "a-mid-1", priority: 1 }),
      message({ queue: "b", id: "b-high-2", priority: 0 }),
    ]);
    const { client, plans } = await explaining();
    expect(await take(client, schema, ["a", "b"], 6)).toEqual([
      "b/b-high-1",
      "a/a-high-1",
      "b/b-high-2",
      "a/a-mid-1",
      "a/a-low-0",
      "a/a-low-1",
    ]);
    const read = readyIndexRows(plans);
    expect(read.length).toBeGreaterThan(0);
    expect(Math.max(...read)).toBeLessThanOrEqual(12);
  });
});

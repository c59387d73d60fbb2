/**
 * Enqueueing in the caller's transaction (issue 29): a job enqueued with `transaction: client`
 * exists from the COMMIT on, never after a ROLLBACK, and no receiver sees it before the commit;
 * a receiver already waiting is woken by the commit. Brokers without `transactions` refuse it.
 */
import pg from "pg";
import { afterEach, beforeEach, expect, it } from "vitest";
import { z } from "zod";
import {
  Connection,
  InMemoryMessageBroker,
  Job,
  NotSupportedError,
  Queue,
  createClient,
  defineRegistry,
} from "repid";
import type { Delivery, MessageBroker } from "repid/broker";
import { describePostgres, POSTGRES_URL, postgresAvailable, testBroker } from "./postgres-env.js";

const registry = defineRegistry({
  receipt: {
    name: "send_receipt",
    property: "sendReceipt",
    queue: "default",
    args: z.object({ orderId: z.number() }),
    result: z.void(),
  },
});

async function take(broker: MessageBroker, ms = 300): Promise<Delivery[]> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), ms);
  try {
    return await broker.receive(["default"], { max: 10, leaseMs: 60_000, signal: ac.signal });
  } finally {
    clearTimeout(t);
  }
}

describePostgres("postgres: enqueue in the caller's transaction", () => {
  if (!postgresAvailable) return;
  let made: ReturnType<typeof testBroker>;
  let connection: Connection;
  let pool: pg.Pool;
  let client: pg.PoolClient;

  beforeEach(async () => {
    made = testBroker();
    connection = new Connection(made.broker);
    await connection.connect();
    await new Queue("default", { connection }).declare();
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    client = await pool.connect();
    await client.query(`CREATE TABLE ${made.schema}.orders (id integer PRIMARY KEY)`);
  });

  afterEach(async () => {
    client.release();
    await pool.end();
    await connection.disconnect();
    await made.cleanup();
  });

  it("a job enqueued in a transaction exists only from its COMMIT; a waiting receiver gets it then", async () => {
    const jobs = createClient(registry, connection);
    const waiting = made.broker.receive(["default"], { max: 10, leaseMs: 60_000 });
    let received = false;
    void waiting.then(() => (received = true));
    await client.query("BEGIN");
    await client.query(`INSERT INTO ${made.schema}.orders VALUES (1)`);
    const handle = await jobs.sendReceipt.enqueue({ orderId: 1 }, { transaction: client });
    expect(handle.created).toBe(true);
    // Not before the commit: not counted, not delivered (a second receiver finds nothing).
    expect(await made.broker.counts("default")).toMatchObject({ ready: 0, running: 0 });
    expect(await take(made.broker)).toEqual([]);
    expect(received).toBe(false);
    await client.query("COMMIT");
    const got = await waiting;
    expect(got.map((d) => [d.message.id, d.message.topic, d.message.payload])).toEqual([
      [handle.id, "send_receipt", JSON.stringify({ orderId: 1 })],
    ]);
    expect(got[0]!.message).not.toHaveProperty("transaction");
  });

  it("after a ROLLBACK neither the job nor the business row exists", async () => {
    await client.query("BEGIN");
    await client.query(`INSERT INTO ${made.schema}.orders VALUES (2)`);
    await new Job("send_receipt", { args: { orderId: 2 }, transaction: client }).enqueue({
      connection,
    });
    await client.query("ROLLBACK");
    expect(await made.broker.counts("default")).toEqual({
      ready: 0,
      delayed: 0,
      running: 0,
      dead: 0,
    });
    expect(await take(made.broker)).toEqual([]);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${made.schema}.orders`);
    expect(rows[0].n).toBe(0);
  });

  it("commits the job with the business row, and a job without transaction at once", async () => {
    await client.query("BEGIN");
    await client.query(`INSERT INTO ${made.schema}.orders VALUES (3)`);
    await new Job("send_receipt", { id: "in-tx", transaction: client }).enqueue({ connection });
    await new Job("send_receipt", { id: "outside" }).enqueue({ connection });
    expect((await take(made.broker)).map((d) => d.message.id)).toEqual(["outside"]);
    await client.query("COMMIT");
    expect((await take(made.broker)).map((d) => d.message.id)).toEqual(["in-tx"]);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${made.schema}.orders`);
    expect(rows[0].n).toBe(1);
  });

  it("refuses a transaction that is not a pg client, sending nothing", async () => {
    await expect(
      new Job("send_receipt", { transaction: { nope: true } }).enqueue({ connection }),
    ).rejects.toMatchObject({ code: "INVALID_OPTION" });
    expect((await made.broker.counts("default")).ready).toBe(0);
  });
});

it("a broker without transactions refuses a job with a transaction, sending nothing", async () => {
  const broker = new InMemoryMessageBroker();
  const connection = new Connection(broker);
  await new Queue("default", { connection }).declare();
  const error = await new Job("send_receipt", { transaction: {} })
    .enqueue({ connection })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NotSupportedError);
  expect((error as NotSupportedError).operation).toBe("transaction");
  expect((await broker.counts("default")).ready).toBe(0);
  await connection.disconnect();
});

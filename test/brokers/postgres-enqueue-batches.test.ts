/**
 * Concurrent enqueue calls to one queue, outside a caller's transaction, share one statement on
 * Postgres (one round trip, one commit), and each call still gets exactly its own outcome.
 */
import pg from "pg";
import { QueueNotDeclaredError } from "repid";
import { PostgresMessageBroker } from "repid/postgres";
import { afterEach, expect, it } from "vitest";
import { message } from "./contract.js";
import { describePostgres, dropSchema, POSTGRES_URL, uniqueSchema } from "./postgres-env.js";

/** A real pool that counts the enqueue statements sent through it (set-based ones apart). */
class CountingPool extends pg.Pool {
  enqueues = 0;
  plain = 0;
  override query(...args: unknown[]): never {
    const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string })?.text;
    if (text?.includes(".enqueue(") || text?.includes(".enqueue_plain(")) this.enqueues++;
    if (text?.includes(".enqueue_plain(")) this.plain++;
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(): Promise<{ broker: PostgresMessageBroker; pool: CountingPool }> {
  const schema = uniqueSchema();
  const pool = new CountingPool({ connectionString: POSTGRES_URL, max: 10 });
  const broker = new PostgresMessageBroker(pool, { schema });
  cleanups.push(async () => {
    await broker.disconnect();
    await pool.end();
    await dropSchema(schema);
  });
  await broker.connect();
  await broker.declareQueue("default");
  return { broker, pool };
}

describePostgres("postgres enqueue batches", () => {
  it("stores 200 concurrent single enqueues in one statement, each call told its own outcome", async () => {
    const { broker, pool } = await open();
    await broker.enqueue([message({ id: "taken-1" }), message({ id: "taken-2" })]);
    const before = pool.enqueues;
    const ids = Array.from({ length: 200 }, (_, i) =>
      i % 100 === 7 ? `taken-${i < 100 ? 1 : 2}` : `m-${i}`,
    );
    const outcomes = await Promise.all(ids.map((id) => broker.enqueue([message({ id })])));
    expect(pool.enqueues - before).toBe(1);
    expect(outcomes.map((o) => o.length)).toEqual(ids.map(() => 1));
    expect(outcomes.map((o) => o[0]!.id)).toEqual(ids);
    expect(outcomes.map((o) => o[0]!.created)).toEqual(ids.map((id) => !id.startsWith("taken")));
    expect((await broker.counts("default")).ready).toBe(200);
  });

  it("a call to an undeclared queue fails alone; calls to a declared one in the same turn succeed", async () => {
    const { broker } = await open();
    const [good, bad, alsoGood] = await Promise.allSettled([
      broker.enqueue([message({ id: "a" })]),
      broker.enqueue([message({ id: "b", queue: "nowhere" })]),
      broker.enqueue([message({ id: "c" })]),
    ]);
    expect(good).toMatchObject({ status: "fulfilled", value: [{ id: "a", created: true }] });
    expect(alsoGood).toMatchObject({ status: "fulfilled", value: [{ id: "c", created: true }] });
    expect(bad.status).toBe("rejected");
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(QueueNotDeclaredError);
  });

  it("a bulk batch is one set-based insert: stored in its order, ids already taken skipped and told", async () => {
    const { broker, pool } = await open();
    await broker.enqueue([message({ id: "m-10" }), message({ id: "m-500" })]);
    const before = pool.plain;
    const ids = Array.from({ length: 1000 }, (_, i) => `m-${i}`);
    const outcomes = await broker.enqueue(ids.map((id) => message({ id })));
    expect(pool.plain - before).toBe(1);
    expect(outcomes.filter((o) => !o.created).map((o) => o.id)).toEqual(["m-10", "m-500"]);
    // FIFO: the batch's own order (the two taken ids keep their earlier places).
    const got = await broker.receive(["default"], { max: 1000, leaseMs: 60_000 });
    const expected = ["m-10", "m-500", ...ids.filter((id) => id !== "m-10" && id !== "m-500")];
    expect(got.map((d) => d.message.id)).toEqual(expected);
  });

  it("a batch with an id twice or a dedupe window goes message by message, with the same answers", async () => {
    const { broker, pool } = await open();
    const before = pool.plain;
    const twice = await broker.enqueue([
      message({ id: "a" }),
      message({ id: "b" }),
      message({ id: "a" }),
    ]);
    expect(twice.map((o) => o.created)).toEqual([true, true, false]);
    const windowed = await broker.enqueue([
      message({ id: "c", dedupeMs: 60_000 }),
      message({ id: "d" }),
    ]);
    expect(windowed.map((o) => o.created)).toEqual([true, true]);
    expect(pool.plain - before).toBe(0);
    expect((await broker.counts("default")).ready).toBe(4);
  });
});

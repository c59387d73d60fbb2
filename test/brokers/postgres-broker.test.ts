/**
 * What the Postgres broker promises beyond the shared contract: settled messages leave the
 * messages table (acked rows deleted, dead letters moved), dead letters are capped per queue,
 * and the broker vacuums its messages table once it has settled `vacuumAfter` messages.
 */
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { message, waitFor } from "./contract.js";
import { describePostgres, POSTGRES_URL, testBroker } from "./postgres-env.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(options: Parameters<typeof testBroker>[0] = {}) {
  const made = testBroker(options);
  cleanups.push(made.cleanup);
  await made.broker.connect();
  await made.broker.declareQueue("default");
  const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
  cleanups.push(() => admin.end());
  const rows = async (table: string): Promise<number> =>
    (await admin.query(`SELECT count(*)::int AS n FROM ${made.schema}.${table}`)).rows[0].n;
  return { ...made, admin, rows };
}

async function take(broker: ReturnType<typeof testBroker>["broker"], max: number) {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 300);
  try {
    return await broker.receive(["default"], { max, leaseMs: 60_000, signal: ac.signal });
  } finally {
    clearTimeout(t);
  }
}

describePostgres("postgres broker", () => {
  it("deletes acked messages and moves dead ones out of the messages table", async () => {
    const { broker, rows } = await open();
    await broker.enqueue(Array.from({ length: 50 }, () => message()));
    expect(await rows("messages")).toBe(50);
    const got = await take(broker, 50);
    expect(got).toHaveLength(50);
    const [last, ...rest] = got;
    await broker.settle(rest.map((d) => ({ kind: "ack" as const, delivery: d })));
    await broker.settle([{ kind: "dead", delivery: last!, error: { name: "E", message: "x" } }]);
    expect([await rows("messages"), await rows("dead")]).toEqual([0, 1]);
  });

  it("keeps the newest maxDeadLetters dead letters of a queue", async () => {
    const { broker } = await open({ maxDeadLetters: 2 });
    for (const id of ["a", "b", "c"]) {
      await broker.enqueue([message({ id })]);
      const [d] = await take(broker, 1);
      await broker.settle([{ kind: "dead", delivery: d!, error: { name: "E", message: id } }]);
    }
    expect((await broker.deadLetters("default")).map((d) => d.message.id)).toEqual(["b", "c"]);
    expect((await broker.counts("default")).dead).toBe(2);
  });

  it("vacuums its messages table once it has settled vacuumAfter messages", async () => {
    const { broker, admin, schema } = await open({ vacuumAfter: 20 });
    const vacuums = async (): Promise<number> =>
      Number(
        (
          await admin.query(
            `SELECT vacuum_count FROM pg_stat_user_tables
               WHERE schemaname = $1 AND relname = 'messages'`,
            [schema],
          )
        ).rows[0]?.vacuum_count ?? 0,
      );
    expect(await vacuums()).toBe(0);
    await broker.enqueue(Array.from({ length: 30 }, () => message()));
    const got = await take(broker, 30);
    await broker.settle(got.map((d) => ({ kind: "ack" as const, delivery: d })));
    await waitFor(async () => (await vacuums()) >= 1, 20_000);
  }, 30_000);
});

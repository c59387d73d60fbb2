/**
 * Limits on the Postgres broker beyond the shared suites (postgres-limits.test.ts): migration 6
 * brings a schema at version 3 with jobs waiting in it to limits; a settlement wakes a receiver
 * that waits for a slot (no polling: its sweep is a minute); key values read from payloads as
 * `keyOf` reads them; a queue without limits takes as before and keeps no limit rows; cases the
 * shared suites leave out come out as on the in-memory broker.
 */
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { keyOf } from "../../src/core/limits.js";
import { encodeMessage } from "../../src/brokers/postgres/codec.js";
import { MIGRATIONS } from "../../src/brokers/postgres/migrations.js";
import { SCHEMA_VERSION } from "../../src/brokers/postgres/schema.js";
import type { Delivery, MessageBroker } from "../../src/brokers/broker.js";
import { lockOf } from "../../src/brokers/postgres/limits-sql.js";
import { InMemoryMessageBroker } from "../../src/index.js";
import { message } from "./contract.js";
import {
  describePostgres,
  dropSchema,
  POSTGRES_URL,
  testBroker,
  uniqueSchema,
} from "./postgres-env.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function client(): Promise<pg.Client> {
  const c = new pg.Client(POSTGRES_URL);
  await c.connect();
  cleanups.push(() => c.end());
  return c;
}

function job(topic: string, n: number, account?: unknown) {
  return message({
    topic,
    payload: JSON.stringify({ n, ...(account === undefined ? {} : { account }) }),
  });
}

const nOf = (payload: string | undefined): number => (JSON.parse(payload!) as { n: number }).n;

describePostgres("postgres limits: schema and wake-ups", () => {
  it("the limits migration upgrades a schema at version 3 whose jobs then wait for limits", async () => {
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(schema));
    const c = await client();
    // A schema as repid with migrations 1 to 3 left it, with jobs waiting and one running.
    await c.query("BEGIN");
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(
      `CREATE TABLE ${schema}.migrations (version integer PRIMARY KEY, name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const m of MIGRATIONS.filter((m) => m.version <= 3)) {
      await c.query(m.sql(schema));
      await c.query(`INSERT INTO ${schema}.migrations (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
    }
    await c.query(`INSERT INTO ${schema}.queues (name) VALUES ('default')`);
    const jobs = Array.from({ length: 4 }, (_, n) => job("sync", n, { id: "a" }));
    await c.query(`SELECT ${schema}.enqueue($1::jsonb)`, [JSON.stringify(jobs.map(encodeMessage))]);
    const running = await c.query(`SELECT * FROM ${schema}.take($1, 1, 60000, NULL, false, 3)`, [
      ["default"],
    ]);
    expect(running.rows).toHaveLength(1);
    await c.query("COMMIT");

    const { broker } = testBroker({ schema });
    cleanups.push(() => broker.disconnect());
    await broker.connect();
    expect((await c.query(`SELECT max(version) AS v FROM ${schema}.migrations`)).rows[0].v).toBe(
      SCHEMA_VERSION,
    );
    await broker.declareLimits!("default", "sync", {
      concurrency: { limit: 2, key: "account.id" },
    });
    // The lease taken before the migration holds one of the key's two slots.
    expect(await broker.counts("default")).toEqual({
      ready: 1,
      delayed: 0,
      running: 1,
      dead: 0,
      limited: 2,
      limitedBy: { sync: 2 },
    });
    const got = await broker.receive(["default"], { max: 10, leaseMs: 60_000 });
    expect(got.map((d) => nOf(d.message.payload))).toEqual([1]);
  });

  it("a settlement wakes a receiver waiting for a slot at once, without a sweep", async () => {
    const schema = uniqueSchema();
    cleanups.push(() => dropSchema(schema));
    const a = testBroker({ schema, sweepMs: 60_000 }).broker;
    const b = testBroker({ schema, sweepMs: 60_000 }).broker;
    cleanups.push(
      () => a.disconnect(),
      () => b.disconnect(),
    );
    await a.connect();
    await b.connect();
    await a.declareQueue("default");
    await a.declareLimits!("default", "sync", { concurrency: { limit: 1 } });
    await a.enqueue([job("sync", 1), job("sync", 2)]);
    const [first] = await a.receive(["default"], { max: 10, leaseMs: 60_000 });
    const waiting = b.receive(["default"], {
      max: 10,
      leaseMs: 60_000,
      signal: AbortSignal.timeout(10_000),
    });
    await new Promise((r) => setTimeout(r, 300));
    const settledAt = Date.now();
    await a.settle([{ kind: "ack", delivery: first! }]);
    const next = await waiting;
    expect(next.map((d) => nOf(d.message.payload))).toEqual([2]);
    expect(Date.now() - settledAt).toBeLessThan(3_000);
  });

  it("a take that waited for the limits lock counts its rate-limit start from when it took", async () => {
    // Two workers' takes of one limited queue queue up on its advisory lock. A take that waited
    // stamped its start with the time its statement began, before the wait: the next window then
    // opened that much early, and two jobs of a 1-per-second limit started 300 ms apart.
    const { broker, schema, cleanup } = testBroker({ sweepMs: 60_000 });
    cleanups.push(cleanup);
    await broker.connect();
    await broker.declareQueue("default");
    await broker.declareLimits!("default", "call", { rateLimit: { limit: 1, perMs: 1_000 } });
    await broker.enqueue([job("call", 1), job("call", 2)]);
    const take = (ms: number) =>
      broker.receive(["default"], { max: 1, leaseMs: 60_000, signal: AbortSignal.timeout(ms) });
    const ns = (ds: Delivery[]) => ds.map((d) => nOf(d.message.payload));
    const holder = await client();
    await holder.query("BEGIN");
    await holder.query(`SELECT pg_advisory_xact_lock(${lockOf(schema, "$1::text")})`, ["default"]);
    const taking = take(10_000);
    await new Promise((r) => setTimeout(r, 800));
    await holder.query("COMMIT");
    expect(ns(await taking)).toEqual([1]);
    // 300 ms after the first take returned: past a window counted from before the wait, well
    // inside one counted from the take.
    await new Promise((r) => setTimeout(r, 300));
    expect(ns(await take(200))).toEqual([]);
    expect(ns(await take(5_000))).toEqual([2]);
  });

  it("reads key values from payloads as keyOf does", async () => {
    const { broker, schema, cleanup } = testBroker();
    cleanups.push(cleanup);
    await broker.connect();
    const c = await client();
    const payloads = [
      undefined,
      "not json",
      "[1]",
      JSON.stringify({ a: { b: "x" } }),
      JSON.stringify({ a: { b: 7 } }),
      JSON.stringify({ a: { b: 7.5 } }),
      JSON.stringify({ a: { b: 2.0 } }),
      JSON.stringify({ a: { b: -0.25 } }),
      JSON.stringify({ a: { b: true } }),
      JSON.stringify({ a: { b: null } }),
      JSON.stringify({ a: [{ b: "x" }] }),
      JSON.stringify({ a: "x" }),
      JSON.stringify({ a: { b: 'é "q" \\' } }),
    ];
    for (const p of payloads) {
      const { rows } = await c.query(`SELECT ${schema}.limit_key($1, $2) AS k`, [
        p ?? null,
        ["a", "b"],
      ]);
      expect([p, rows[0].k]).toEqual([p, keyOf(p, "a.b")]);
    }
  });

  it("a queue without limits keeps no limit rows, while a limited one next to it does", async () => {
    const { broker, schema, cleanup } = testBroker();
    cleanups.push(cleanup);
    await broker.connect();
    await broker.declareQueue("free");
    await broker.declareQueue("held");
    await broker.declareLimits!("held", "ping", { rateLimit: { limit: 5, perMs: 60_000 } });
    await broker.enqueue([
      ...Array.from({ length: 3 }, (_, n) => ({ ...job("ping", n), queue: "free" })),
      ...Array.from({ length: 3 }, (_, n) => ({ ...job("ping", n), queue: "held" })),
    ]);
    const got = await broker.receive(["free", "held"], { max: 10, leaseMs: 60_000 });
    expect(got).toHaveLength(6);
    const c = await client();
    const { rows } = await c.query(
      `SELECT queue, count(*)::int AS n FROM ${schema}.limit_starts GROUP BY queue`,
    );
    expect(rows).toEqual([{ queue: "held", n: 3 }]);
    await broker.deleteQueue("held");
    const left = await c.query(
      `SELECT (SELECT count(*) FROM ${schema}.limits)::int + (SELECT count(*) FROM ${schema}.limit_starts)::int AS n`,
    );
    expect(left.rows[0].n).toBe(0);
  });

  it("two limits on different key paths, limits changed under held leases and a requeue go as on the in-memory broker", async () => {
    const scenario = async (b: MessageBroker) => {
      const take = async (max = 10) =>
        b.receive(["default"], { max, leaseMs: 60_000, signal: AbortSignal.timeout(300) });
      const ids = (ds: { message: { id: string } }[]) => ds.map((d) => d.message.id);
      const j = (id: string, acc: string, priority: 0 | 1 = 1) =>
        message({ id, topic: "sync", priority, payload: JSON.stringify({ account: { id: acc } }) });
      await b.declareQueue("default");
      await b.declareLimits!("default", "sync", {
        concurrency: { limit: 1, key: "account.id" },
        rateLimit: { limit: 2, perMs: 60_000 },
      });
      await b.enqueue([j("a1", "a"), j("a2", "a"), j("b1", "b"), j("c1", "c", 0)]);
      const first = await take();
      const out: unknown[] = [ids(first), await b.counts("default")];
      out.push(
        await Promise.all(
          ["a2", "b1"].map(async (id) => (await b.admin!.job("default", id))?.heldBy),
        ),
      );
      // Two slots per account and no rate limit: a1's lease still counts.
      await b.declareLimits!("default", "sync", { concurrency: { limit: 2, key: "account.id" } });
      const second = await take();
      out.push(ids(second), await b.counts("default"));
      // A requeued lease frees its slot and takes its place again.
      const c1 = first.find((d) => d.message.id === "c1")!;
      await b.settle([{ kind: "requeue", delivery: c1, attempt: 2, executeAt: undefined }]);
      out.push(ids(await take(1)), await b.counts("default"));
      return out;
    };
    const memory = new InMemoryMessageBroker();
    await memory.connect();
    const { broker, cleanup } = testBroker();
    cleanups.push(cleanup);
    await broker.connect();
    const expected = await scenario(memory);
    expect(await scenario(broker)).toEqual(expected);
    expect(expected[0]).toEqual(["c1", "a1"]);
  });
});

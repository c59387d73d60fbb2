/**
 * The Postgres broker when its connections die under load: every backend of the broker is
 * terminated (`pg_terminate_backend`, as a failover or a restart of Postgres does to them) while
 * a worker runs; the worker carries on, nothing is lost or dead-lettered, and an idle receiver is
 * woken again through the reopened LISTEN connection. A statement cut off by Postgres's
 * `statement_timeout` surfaces as `PostgresBrokerError` with its SQLSTATE.
 */
import { execFileSync } from "node:child_process";
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { Connection, Job, Queue, Worker, enqueueMany, silentLogger } from "repid";
import { PostgresBrokerError } from "../../src/brokers/postgres/pg-errors.js";
import { PostgresMessageBroker } from "../../src/brokers/postgres/postgres-broker.js";
import { InvalidOptionError } from "../../src/core/errors.js";
import { message, waitFor } from "./contract.js";
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

/** The broker's URL, naming its connections so that the test can find and kill them. */
function namedUrl(name: string, extra: Record<string, string> = {}): string {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set("application_name", name);
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
  return url.toString();
}

function adminPool(): pg.Pool {
  const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
  cleanups.push(() => admin.end());
  return admin;
}

async function terminate(admin: pg.Pool, name: string): Promise<number> {
  const { rows } = await admin.query(
    `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
       WHERE application_name = $1`,
    [name],
  );
  return rows[0].n as number;
}

describePostgres("postgres faults", () => {
  it("every connection of the broker killed twice while a worker runs: each job ends, none dead", async () => {
    const schema = uniqueSchema();
    const name = `repid_${schema}`;
    const made = testBroker({ schema }, namedUrl(name));
    cleanups.push(made.cleanup);
    const admin = adminPool();
    const connection = new Connection(made.broker, { logger: silentLogger });
    await connection.connect();
    await new Queue("default", { connection }).declare();
    const n = 400;
    const ended = new Map<number, number>();
    const worker = new Worker({ connection, concurrency: 10, leaseTime: "2s", handleSignals: [] });
    worker.actor(async function tick(i: number) {
      await new Promise((r) => setTimeout(r, 5));
      ended.set(i, (ended.get(i) ?? 0) + 1);
    });
    await enqueueMany(
      Array.from({ length: n }, (_, i) => new Job("tick", { args: i })),
      { connection },
    );
    const running = worker.run();
    await waitFor(() => ended.size >= 100);
    expect(await terminate(admin, name)).toBeGreaterThan(0);
    await waitFor(() => ended.size >= 250, 30_000);
    expect(await terminate(admin, name)).toBeGreaterThan(0);
    await waitFor(async () => {
      const c = await made.broker.counts("default");
      return c.ready + c.delayed + c.running === 0;
    }, 30_000);
    worker.stop();
    await running;
    expect(ended.size).toBe(n);
    expect((await made.broker.counts("default")).dead).toBe(0);
    await connection.disconnect();
  }, 90_000);

  it("an idle receiver is woken by an enqueue after its LISTEN connection was killed", async () => {
    const schema = uniqueSchema();
    const name = `repid_${schema}`;
    const receiving = testBroker({ schema, sweepMs: 60_000 }, namedUrl(name));
    const producing = testBroker({ schema });
    cleanups.push(receiving.cleanup, () => producing.broker.disconnect());
    const admin = adminPool();
    await receiving.broker.connect();
    await producing.broker.connect();
    await producing.broker.declareQueue("default");
    expect(await terminate(admin, name)).toBeGreaterThan(0);
    // The LISTEN connection comes back; meanwhile the receiver looks often instead.
    const waiting = receiving.broker.receive(["default"], { max: 1, leaseMs: 60_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const m = message();
    await producing.broker.enqueue([m]);
    expect((await waiting).map((d) => d.message.id)).toEqual([m.id]);
    // And later ones too, by notification (the safety sweep is a minute away).
    const again = receiving.broker.receive(["default"], { max: 1, leaseMs: 60_000 });
    await new Promise((r) => setTimeout(r, 300));
    const m2 = message();
    await producing.broker.enqueue([m2]);
    expect((await again).map((d) => d.message.id)).toEqual([m2.id]);
  }, 30_000);

  it("a call made at once after every idle connection of the pool was killed succeeds (each dead one is passed over)", async () => {
    const schema = uniqueSchema();
    const name = `repid_${schema}`;
    const made = testBroker({ schema, poolSize: 6 }, namedUrl(name));
    cleanups.push(made.cleanup);
    await made.broker.connect();
    await made.broker.declareQueue("default");
    // Five idle connections in the pool (the sixth holds LISTEN).
    await Promise.all(Array.from({ length: 5 }, () => made.broker.counts("default")));
    // Killed by another process while this event loop is blocked, so that when it runs again
    // the pool still holds them as idle and their sockets are closed (as after a server
    // restart, when the broker's first calls meet the old connections).
    execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import pg from "pg";
         const c = new pg.Client(process.argv[1]);
         await c.connect();
         await c.query(
           "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1",
           [process.argv[2]]);
         await c.end();`,
        POSTGRES_URL,
        name,
      ],
      { stdio: "ignore" },
    );
    expect(await made.broker.counts("default")).toEqual({
      ready: 0,
      delayed: 0,
      running: 0,
      dead: 0,
    });
    expect(await made.broker.queueExists("default")).toBe(true);
  });

  it("a statement cut off by statement_timeout fails with PostgresBrokerError and its SQLSTATE", async () => {
    const schema = uniqueSchema();
    const made = testBroker({ schema }, namedUrl(`repid_${schema}`));
    cleanups.push(made.cleanup);
    await made.broker.connect();
    await made.broker.declareQueue("default");
    // Another session locks the messages table, so the enqueue waits past statement_timeout.
    const blocker = new pg.Client(POSTGRES_URL);
    await blocker.connect();
    cleanups.push(() => blocker.end());
    await blocker.query("BEGIN");
    await blocker.query(`LOCK TABLE ${schema}.messages IN ACCESS EXCLUSIVE MODE`);
    const slow = testBroker(
      { schema },
      namedUrl(`slow_${schema}`, { options: "-c statement_timeout=300" }),
    );
    cleanups.push(() => slow.broker.disconnect());
    const connecting = await slow.broker.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    // Connecting migrates nothing (the schema is current) and takes no lock on messages.
    expect(connecting).toBeUndefined();
    const error = await slow.broker.enqueue([message()]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostgresBrokerError);
    expect((error as PostgresBrokerError).pgCode).toBe("57014");
    await blocker.query("ROLLBACK");
    expect(await slow.broker.enqueue([message()])).toHaveLength(1);
  }, 30_000);

  it("refuses a pool too small for LISTEN; an exhausted pool fails calls with PostgresBrokerError until a connection frees", async () => {
    expect(() => new PostgresMessageBroker(POSTGRES_URL, { poolSize: 1 })).toThrow(
      InvalidOptionError,
    );
    const tiny = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    cleanups.push(() => tiny.end());
    expect(() => new PostgresMessageBroker(tiny)).toThrow(InvalidOptionError);

    const schema = uniqueSchema();
    const pool = new pg.Pool({
      connectionString: POSTGRES_URL,
      max: 2,
      connectionTimeoutMillis: 300,
    });
    const broker = new PostgresMessageBroker(pool, { schema, logger: silentLogger });
    cleanups.push(async () => {
      await broker.disconnect();
      await pool.end();
      await dropSchema(schema);
    });
    await broker.connect();
    await broker.declareQueue("default");
    // The application holds the pool's last free connection (LISTEN holds the other).
    const held = await pool.connect();
    const error = await broker.counts("default").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostgresBrokerError);
    held.release();
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
  });
});

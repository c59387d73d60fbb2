/**
 * What the Postgres broker promises beyond the shared contract: settled messages leave the
 * messages table (acked rows deleted, dead letters moved), dead letters are capped per queue
 * (also those of stalled messages),
 * the broker vacuums its messages table once it has settled `vacuumAfter` messages, and
 * `keepAlive` beats from a thread that a blocked event loop does not stop.
 */
import { execFileSync } from "node:child_process";
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

  it("keeps the newest maxDeadLetters dead letters of a queue also when stalls dead-letter them", async () => {
    // maxStalls 0: the first lease that runs out dead-letters its message (as STALLED).
    const { broker } = await open({ maxDeadLetters: 2, maxStalls: 0 });
    const stall = async (ids: string[]): Promise<void> => {
      await broker.enqueue(ids.map((id) => message({ id })));
      // Leased for 1 ms and never settled, as by a worker that died.
      const got = await broker.receive(["default"], { max: ids.length, leaseMs: 1 });
      expect(got.map((d) => d.message.id)).toEqual(ids);
      // counts() recovers lost leases first.
      await waitFor(async () => (await broker.counts("default")).running === 0);
    };
    await stall(["a"]);
    await stall(["b"]);
    await stall(["c", "d"]);
    const dead = await broker.deadLetters("default");
    expect(dead.map((d) => [d.message.id, d.error.code])).toEqual([
      ["c", "STALLED"],
      ["d", "STALLED"],
    ]);
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 2 });
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

  it("keepAlive keeps a consumer's leases while its event loop is blocked past the heartbeat's time to live; stop ends them at once", async () => {
    const { broker, schema } = await open();
    const other = testBroker({ schema });
    cleanups.push(() => other.broker.disconnect());
    await other.broker.connect();
    await broker.enqueue([message({ id: "long" })]);
    const alive = broker.keepAlive("blocked", ["default"], 600);
    const [d] = await broker.receive(["default"], {
      max: 1,
      leaseMs: 60_000,
      consumer: "blocked",
    });
    expect(d!.message.id).toBe("long");
    // Three times the heartbeat's time to live without this thread's event loop turning, then,
    // still without it, another process counts (and so recovers lost leases).
    const until = Date.now() + 1800;
    while (Date.now() < until);
    const counted = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import pg from "pg";
         const c = new pg.Client(process.argv[1]);
         await c.connect();
         const { rows } = await c.query("SELECT ${schema}.counts('default', 3) AS c");
         console.log(JSON.stringify(rows[0].c));
         await c.end();`,
        POSTGRES_URL,
      ],
      { encoding: "utf8" },
    );
    expect(JSON.parse(counted)).toMatchObject({ ready: 0, running: 1 });
    await alive.stop();
    expect(await other.broker.counts("default")).toMatchObject({ ready: 1, running: 0 });
    expect(await broker.settle([{ kind: "ack", delivery: d! }])).toEqual([false]);
  });
});

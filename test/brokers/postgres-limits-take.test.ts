/**
 * A take on a queue with limits reads what the groups with work need, not the waiting jobs: the
 * executor's own plans (auto_explain, ANALYZE, nested statements) show how many rows of
 * `messages` a take of 1 read behind 3,000 waiting limited jobs (migration 6 read and ranked
 * every one of them; migration 9 reads the queue's first limited rows, or when those do not
 * answer the groups from an index, then the first rows of those with room). With a keyed
 * concurrency limit, and with a rate limit and a topic without limits behind the backlog.
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
  await broker.declareQueue("default");
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

const SCAN =
  /(?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan)(?: Backward)?(?: using \S+)? on (\w+)[^\n]*rows=(\d+) loops=(\d+)/;

/**
 * Rows of `messages` each scan node read over the plans (returned, plus removed by its filter),
 * every loop counted.
 */
function messageRowsRead(plans: readonly string[]): number[] {
  const out: number[] = [];
  for (const plan of plans) {
    let current: { i: number; loops: number } | undefined;
    for (const line of plan.split("\n")) {
      const scan = SCAN.exec(line);
      if (scan) {
        current = undefined;
        if (scan[1] === "messages") {
          out.push(Number(scan[2]) * Number(scan[3]));
          current = { i: out.length - 1, loops: Number(scan[3]) };
        }
        continue;
      }
      const removed = /Rows Removed by (?:Filter|Index Recheck): (\d+)/.exec(line);
      if (removed && current) out[current.i]! += Number(removed[1]) * current.loops;
      else if (/->/.test(line)) current = undefined;
    }
  }
  return out;
}

async function take(client: pg.Client, schema: string, max: number): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT * FROM ${schema}.take($1, $2, 60000, NULL, false, 3)`,
    [["default"], max],
  );
  return rows.map((r) => r.id);
}

/**
 * What a take of a few may read whatever the backlog: the first 64 limited rows of the queue (its
 * head, read twice: to decide, then to lease), the groups and their first rows, the leased rows.
 */
const BOUND = 400;

const id = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(4, "0")}`;

describePostgres("postgres take with limits", () => {
  it("concurrency per key: a take of 1 behind 3,000 waiting jobs reads a bounded number of rows", async () => {
    const { broker, schema } = await open();
    await broker.declareLimits!("default", "limited", {
      concurrency: { limit: 2, key: "account" },
    });
    await broker.enqueue(
      Array.from({ length: 3000 }, (_, i) =>
        message({
          id: id("m", i),
          topic: "limited",
          payload: JSON.stringify({ account: `a${i % 3}`, n: i }),
        }),
      ),
    );
    const { client, plans } = await explaining();
    expect(await take(client, schema, 1)).toEqual(["m-0000"]);
    const read = messageRowsRead(plans);
    expect(read.length).toBeGreaterThan(0);
    expect(read.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(BOUND);

    // Every account full (two leases each): nothing to take, still without reading the backlog.
    for (let i = 0; i < 5; i++) expect(await take(client, schema, 1)).toHaveLength(1);
    plans.length = 0;
    expect(await take(client, schema, 1)).toEqual([]);
    const full = messageRowsRead(plans);
    expect(full.length).toBeGreaterThan(0);
    expect(full.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(BOUND);
    expect(await broker.counts("default")).toMatchObject({
      ready: 0,
      running: 6,
      limited: 2994,
      limitedBy: { limited: 2994 },
    });
  });

  it("a rate limit, and a topic without limits behind the backlog: a bounded number of rows", async () => {
    const { broker, schema } = await open();
    await broker.declareLimits!("default", "rated", { rateLimit: { limit: 2, perMs: 60_000 } });
    await broker.enqueue(
      Array.from({ length: 3000 }, (_, i) => message({ id: id("r", i), topic: "rated" })),
    );
    await broker.enqueue([message({ id: "plain-1", topic: "plain" })]);
    const { client, plans } = await explaining();
    expect(await take(client, schema, 3)).toEqual(["r-0000", "r-0001", "plain-1"]);
    const read = messageRowsRead(plans);
    if (process.env.SHOW_PLANS) console.log(plans.join("\n=====\n"));
    expect(read.length).toBeGreaterThan(0);
    expect(read.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(BOUND);
  });
});

describePostgres("postgres limit keys", () => {
  it("a row's stored keys follow its payload and its topic's declarations", async () => {
    const { broker, schema } = await open();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    cleanups.push(() => client.end());
    const keys = async (): Promise<Record<string, string[] | null>> => {
      const { rows } = await client.query<{ id: string; lkeys: string[] | null }>(
        `SELECT id, lkeys FROM ${schema}.messages ORDER BY id`,
      );
      return Object.fromEntries(rows.map((r) => [r.id, r.lkeys]));
    };
    const job = (id: string, topic: string, payload: unknown, extra = {}) =>
      message({ id, topic, payload: JSON.stringify(payload), ...extra });
    await broker.enqueue([job("a1", "t", { account: "a", n: 1.5 }), job("u1", "u", { x: 1 })]);
    expect(await keys()).toEqual({ a1: null, u1: null });

    await broker.declareLimits!("default", "t", { concurrency: { limit: 1, key: "account" } });
    expect(await keys()).toEqual({ a1: ["a", null], u1: [] });

    await broker.enqueue([job("a2", "t", { account: 7 })]); // enqueue_plain
    await broker.enqueue([job("a3", "t", {}, { dedupeMs: 1000 }), job("u2", "u", {})]); // enqueue
    expect(await keys()).toEqual({
      a1: ["a", null],
      a2: ["7", null],
      a3: ["", null],
      u1: [],
      u2: [],
    });

    await broker.declareLimits!("default", "t", {
      concurrency: { limit: 1, key: "n" },
      rateLimit: { limit: 5, perMs: 1000, key: "account" },
    });
    expect((await keys()).a1).toEqual(["1.5", "a"]);

    // A waiting message replaced in place (debounce) gets the keys of its new payload.
    await broker.enqueue([job("a1", "t", { account: "b", n: 2 }, { debounceMs: 1000 })]);
    expect((await keys()).a1).toEqual(["2", "b"]);

    await broker.declareLimits!("default", "t", undefined);
    expect(Object.values(await keys()).every((k) => k === null)).toBe(true);
  });
});

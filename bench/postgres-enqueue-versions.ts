/**
 * Enqueue on a queue without limits, on a schema at version 7 (before limit keys) and on one at
 * the current version, side by side in one process, the two alternating each round: a batch of
 * 1,000 through `enqueue_plain` (the set-based path of `enqueue([...])`) and one through
 * `enqueue` (the per-message path: dedupe, schedules, debounce), timed as the SQL call; the
 * table is emptied between rounds.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/postgres-enqueue-versions.ts [rounds]
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { encodeMessage } from "../src/brokers/postgres/codec.js";
import { MIGRATIONS } from "../src/brokers/postgres/migrations.js";
import { summarize } from "./stats.js";

const url = process.env.POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";
const rounds = Number(process.argv[2] ?? 12);
const client = new pg.Client({ connectionString: url });
await client.connect();

async function schemaAt(version: number): Promise<string> {
  const s = `bench_enq_${process.pid}_v${version}`;
  await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.query("BEGIN");
  await client.query(`CREATE SCHEMA ${s}`);
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) await client.query(m.sql(s));
  await client.query(`INSERT INTO ${s}.queues (name) VALUES ('bench')`);
  await client.query("COMMIT");
  return s;
}

const batch = (): string =>
  JSON.stringify(
    Array.from({ length: 1_000 }, () =>
      encodeMessage({
        id: randomUUID(),
        queue: "bench",
        topic: "noop",
        payload: '{"n":1}',
        priority: 1,
        retries: 0,
        timeoutMs: 1000,
      }),
    ),
  );

async function timed(sql: string, arg: string): Promise<number> {
  const t0 = performance.now();
  await client.query(sql, [arg]);
  return performance.now() - t0;
}

const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
const versions = [7, latest];
const schemas = await Promise.all(versions.map(async (v) => [v, await schemaAt(v)] as const));
const plain = new Map<number, number[]>(versions.map((v) => [v, []]));
const each = new Map<number, number[]>(versions.map((v) => [v, []]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const [v, s] of r % 2 ? [...schemas].reverse() : schemas) {
      plain.get(v)!.push(await timed(`SELECT * FROM ${s}.enqueue_plain($1::jsonb)`, batch()));
      each.get(v)!.push(await timed(`SELECT ${s}.enqueue($1::jsonb)`, batch()));
      await client.query(`TRUNCATE ${s}.messages`);
    }
  }
  const fmt = (xs: number[]) => {
    const m = summarize(xs.slice(2));
    return `${m.median.toFixed(1)} ms (${m.min.toFixed(1)}-${m.max.toFixed(1)})`;
  };
  for (const v of versions) {
    console.log(
      `version ${v}: enqueue_plain of 1,000 ${fmt(plain.get(v)!)}, enqueue of 1,000 ${fmt(each.get(v)!)}`,
    );
  }
} finally {
  for (const [, s] of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.end();
}

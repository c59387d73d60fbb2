/**
 * The Postgres broker's take and settle on a queue without limits, on a schema at version 3
 * (before limits) and on one at the current version, side by side in one process: the same
 * backlog taken and acked by the SQL functions directly (batches of 10 by `consumers` loops),
 * the two schemas alternating each round, so that a noisy machine weighs on both alike.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/postgres-hot-path.ts [rounds] [consumers] [base]
 *
 * `base` (default 3) is the version compared with the current one (7: before limit keys).
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { encodeMessage } from "../src/brokers/postgres/codec.js";
import { MIGRATIONS } from "../src/brokers/postgres/migrations.js";
import { summarize } from "./stats.js";

const url = process.env.POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";
const rounds = Number(process.argv[2] ?? 8);
const consumers = Number(process.argv[3] ?? 4);
const base = Number(process.argv[4] ?? 3);
const N = 3_000;
const pool = new pg.Pool({ connectionString: url, max: consumers + 2 });

async function schemaAt(version: number): Promise<string> {
  const s = `bench_hot_${process.pid}_v${version}`;
  const c = await pool.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.query("BEGIN");
    await c.query(`CREATE SCHEMA ${s}`);
    for (const m of MIGRATIONS.filter((m) => m.version <= version)) await c.query(m.sql(s));
    await c.query(`INSERT INTO ${s}.queues (name) VALUES ('bench')`);
    await c.query("COMMIT");
  } finally {
    c.release();
  }
  return s;
}

async function round(s: string): Promise<number> {
  for (let done = 0; done < N; done += 1_000) {
    const batch = Array.from({ length: 1_000 }, () =>
      encodeMessage({
        id: randomUUID(),
        queue: "bench",
        topic: "noop",
        payload: '{"n":1}',
        priority: 1,
        retries: 0,
        timeoutMs: 1000,
      }),
    );
    await pool.query(`SELECT ${s}.enqueue($1::jsonb)`, [JSON.stringify(batch)]);
  }
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: consumers }, async () => {
      for (;;) {
        // Version 3's take answers the message as jsonb, the current one as columns.
        const { rows } = await pool.query<{ message?: { id: string }; id?: string; token: string }>(
          `SELECT * FROM ${s}.take($1, 10, 60000, NULL, true, 3)`,
          [["bench"]],
        );
        if (rows.length === 0) return;
        const acks = rows.map((r) => ({
          kind: "ack",
          queue: "bench",
          id: r.message?.id ?? r.id,
          token: r.token,
        }));
        await pool.query(`SELECT ${s}.settle($1::jsonb, 10000)`, [JSON.stringify(acks)]);
      }
    }),
  );
  return (N / (performance.now() - t0)) * 1000;
}

const before = await schemaAt(base);
const after = await schemaAt(MIGRATIONS[MIGRATIONS.length - 1]!.version);
const figures: Record<string, number[]> = { [before]: [], [after]: [] };
await round(before);
await round(after);
for (let r = 0; r < rounds; r++) {
  for (const s of r % 2 === 0 ? [before, after] : [after, before]) figures[s]!.push(await round(s));
}
for (const [label, s] of [
  [`version ${base}${base === 3 ? " (before limits)" : ""}`, before],
  ["current (with limits)", after],
] as const) {
  const x = summarize(figures[s]!);
  console.log(
    `${label}: take+ack ${Math.round(x.median)} jobs/s median (${Math.round(x.min)}-${Math.round(x.max)}), ${consumers} consumers, ${rounds} rounds of ${N}`,
  );
}
for (const s of [before, after]) await pool.query(`DROP SCHEMA ${s} CASCADE`);
await pool.end();

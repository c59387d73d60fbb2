/**
 * The cost of a take (and of `counts`) on a queue with limits behind a backlog of waiting limited
 * jobs, on a schema at version 7 (limits read from the payloads, migration 6) and on one at the
 * current version, side by side in one process: `concurrency: { limit: 2, key: "account" }` over
 * 10 accounts with nothing running, then with two running per account (every account full: the
 * backlog all waits), on one account with one running (one free slot), and on one account per
 * job (every job free; with EVERY_KEY=1). Each measurement is one `take` of one job (as `receive`
 * calls it, recovery included) in a transaction rolled back, so the backlog stays as it was;
 * medians and ranges of `reps` takes, then of `reps` `counts`.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/postgres-limits-backlog.ts [reps] [sizes] [versions]
 */
import pg from "pg";
import { encodeMessage } from "../src/brokers/postgres/codec.js";
import { encodeLimits } from "../src/brokers/postgres/limits.js";
import { MIGRATIONS } from "../src/brokers/postgres/migrations.js";
import { summarize } from "./stats.js";

const url = process.env.POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";
const reps = Number(process.argv[2] ?? 10);
const sizes = (process.argv[3] ?? "1000,5000,20000").split(",").map(Number);
const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
const versions = (process.argv[4] ?? `7,${latest}`).split(",").map(Number);

const fmt = (xs: number[]): string => {
  const s = summarize(xs);
  return `${s.median.toFixed(1)} ms (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
};

const client = new pg.Client({ connectionString: url });
await client.connect();

async function scenario(
  version: number,
  size: number,
  accounts: number,
  running: number,
): Promise<void> {
  const schema = `bench_limits_${process.pid}_v${version}`;
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.query("BEGIN");
  await client.query(`CREATE SCHEMA ${schema}`);
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) await client.query(m.sql(schema));
  await client.query(`INSERT INTO ${schema}.queues (name) VALUES ('bench')`);
  await client.query("COMMIT");
  try {
    await client.query(`SELECT ${schema}.declare_limits('bench', 'limited', $1::jsonb)`, [
      encodeLimits({ concurrency: { limit: 2, key: "account" } }),
    ]);
    for (let done = 0; done < size; done += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, size - done) }, (_, i) =>
        encodeMessage({
          id: `m-${done + i}`,
          queue: "bench",
          topic: "limited",
          payload: JSON.stringify({ account: `a-${(done + i) % accounts}`, n: done + i }),
          priority: 1,
          retries: 0,
          timeoutMs: 60_000,
        }),
      );
      await client.query(`SELECT * FROM ${schema}.enqueue_plain($1::jsonb)`, [
        JSON.stringify(batch),
      ]);
    }
    // Leases that fill the accounts' slots (never settled during the measurement).
    for (let i = 0; i < running; i++) {
      await client.query(`SELECT id FROM ${schema}.take($1, 1, 600000, NULL, false, 3)`, [
        ["bench"],
      ]);
    }
    await client.query(`VACUUM ANALYZE ${schema}.messages`);
    const takes: number[] = [];
    const counts: number[] = [];
    for (let r = 0; r < reps; r++) {
      await client.query("BEGIN");
      const t0 = performance.now();
      await client.query(`SELECT * FROM ${schema}.take($1, 1, 60000, NULL, true, 3)`, [["bench"]]);
      takes.push(performance.now() - t0);
      await client.query("ROLLBACK");
      const t1 = performance.now();
      await client.query(`SELECT ${schema}.counts($1, 3) AS c`, ["bench"]);
      counts.push(performance.now() - t1);
    }
    const { rows } = await client.query(`SELECT ${schema}.counts($1, 3) AS c`, ["bench"]);
    console.log(
      `v${version} ${size} waiting, ${accounts} account(s), ${running} running: take of 1 ` +
        `${fmt(takes)}, counts ${fmt(counts)} limited ${rows[0].c.limited ?? 0}`,
    );
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

try {
  for (const size of sizes) {
    const cases: [number, number][] = [
      [10, 0],
      [10, 20],
      [1, 1],
      ...(process.env.EVERY_KEY ? [[size, 0] as [number, number]] : []),
    ];
    for (const [accounts, running] of cases) {
      for (const v of versions) await scenario(v, size, accounts, running);
    }
  }
} finally {
  await client.end();
}

/**
 * The cost of a take (and of `counts`) on a queue with limits behind a backlog of waiting limited
 * jobs: `concurrency: { limit: 2, key: "account" }` over 10 accounts with nothing
 * running, then with two running per account (every account full: the backlog all waits), and on
 * one account with one running (one free slot); with EVERY_KEY=1, also one account per job (a take
 * then costs one index probe per account with work). Each measurement is one `take` of one job (as `receive` calls it,
 * recovery included) in a transaction rolled back, so the backlog stays as it was; medians and
 * ranges of `reps` takes, then of `reps` `counts`.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/postgres-limits-backlog.ts [reps] [sizes]
 */
import pg from "pg";
import { PostgresMessageBroker } from "../src/brokers/postgres/postgres-broker.js";
import { summarize } from "./stats.js";

const url = process.env.POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";
const reps = Number(process.argv[2] ?? 10);
const sizes = (process.argv[3] ?? "1000,5000,20000").split(",").map(Number);

const fmt = (xs: number[]): string => {
  const s = summarize(xs);
  return `${s.median.toFixed(1)} ms (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
};

async function scenario(size: number, accounts: number, running: number): Promise<void> {
  const schema = `bench_limits_${process.pid}_${size}_${accounts}`;
  const broker = new PostgresMessageBroker(url, { schema });
  await broker.connect();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await broker.declareQueue("bench");
    await broker.declareLimits("bench", "limited", { concurrency: { limit: 2, key: "account" } });
    for (let done = 0; done < size; done += 1_000) {
      await broker.enqueue(
        Array.from({ length: Math.min(1_000, size - done) }, (_, i) => ({
          id: `m-${done + i}`,
          queue: "bench",
          topic: "limited",
          payload: JSON.stringify({ account: `a-${(done + i) % accounts}`, n: done + i }),
          priority: 1,
          retries: 0,
          timeoutMs: 60_000,
        })),
      );
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
      `${size} waiting, ${accounts} account(s), ${running} running: take of 1 ${fmt(takes)}, ` +
        `counts ${fmt(counts)} ${JSON.stringify(rows[0].c)}`,
    );
  } finally {
    await client.end();
    await broker.disconnect();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
}

for (const size of sizes) {
  await scenario(size, 10, 0);
  await scenario(size, 10, 20);
  await scenario(size, 1, 1);
  if (process.env.EVERY_KEY) await scenario(size, size, 0);
}

/**
 * Does the Postgres broker's messages table stay flat while it processes 1,000,000 jobs? Jobs go
 * in as backlogs of 20,000 (bulk), a worker (concurrency 100) works each off, and the table's
 * total size (heap, indexes, TOAST) is printed every 100,000 jobs, with the dead tuples left.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/postgres-size.ts [jobs]
 *
 * Uses POSTGRES_URL (postgres://root@127.0.0.1:5432/test), in a schema of its own that is dropped
 * afterwards.
 */
import pg from "pg";
import { Connection, Job, Queue, Worker, enqueueMany } from "repid";
import { PostgresMessageBroker } from "repid/postgres";

const url = process.env.POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";
const total = Number(process.argv[2] ?? 1_000_000);
const BACKLOG = 20_000;
const EVERY = 100_000;
const schema = `bench_size_${process.pid}`;

const admin = new pg.Client({ connectionString: url });
await admin.connect();
const connection = new Connection(new PostgresMessageBroker(url, { schema }));
await connection.connect();
const queue = new Queue("size", { connection });
await queue.declare();
const job = new Job("noop", { queue, connection });

async function size(): Promise<string> {
  const { rows } = await admin.query(
    `SELECT pg_total_relation_size('${schema}.messages') AS bytes,
            (SELECT n_dead_tup FROM pg_stat_user_tables
              WHERE schemaname = $1 AND relname = 'messages') AS dead`,
    [schema],
  );
  const mib = (Number(rows[0].bytes) / 1024 / 1024).toFixed(1);
  return `${mib} MiB (dead tuples ${rows[0].dead ?? "?"})`;
}

const started = performance.now();
console.log(`0 jobs: messages table ${await size()}`);
for (let done = 0; done < total;) {
  const n = Math.min(BACKLOG, total - done);
  for (let sent = 0; sent < n; sent += 1_000) {
    await enqueueMany(
      Array.from({ length: Math.min(1_000, n - sent) }, () => job),
      { connection },
    );
  }
  const worker = new Worker({ connection, concurrency: 100, messagesLimit: n, handleSignals: [] });
  worker.actor({ queue: "size", name: "noop" }, async function noop() {});
  await worker.run();
  done += n;
  if (done % EVERY === 0 || done === total) {
    const s = Math.round((performance.now() - started) / 1000);
    console.log(`${done.toLocaleString("en")} jobs (${s} s): messages table ${await size()}`);
  }
}
await connection.disconnect();
await admin.query(`DROP SCHEMA ${schema} CASCADE`);
await admin.end();
process.exit(0);

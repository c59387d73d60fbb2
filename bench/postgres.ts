/**
 * PostgreSQL rows for the benchmark: repid's Postgres broker next to pg-boss and graphile-worker
 * on the same Postgres, in one run, the three alternating (their order rotates every repeat),
 * each in a schema of its own that is dropped afterwards. Enqueue one at a time, 1,000 at once
 * and in bulk; processing no-op jobs at concurrency 10 and 100; pickup latency of jobs sent one
 * at a time to an idle worker.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/postgres.ts [--quick] [--system=repid]
 *
 * `--system=<name>` (repeatable) runs only the systems named (e.g. repid's rows alone, to compare
 * two versions of the broker).
 *
 * Uses POSTGRES_URL (postgres://root@127.0.0.1:5432/test). Each system in its leanest documented
 * set-up for no-op jobs: pg-boss with `useListenNotify` and `notify` on its queue (LISTEN/NOTIFY wakes its workers)
 * and one worker fetching batches of the concurrency's size; graphile-worker with its defaults (it wakes through
 * LISTEN/NOTIFY and deletes finished jobs).
 */
import { makeWorkerUtils, run as runGraphile, type Runner } from "graphile-worker";
import pg from "pg";
import { PgBoss } from "pg-boss";
import { Connection, Job, Queue, Worker, enqueueMany } from "repid";
import { PostgresMessageBroker } from "repid/postgres";
import { percentile, rate, summarize } from "./stats.js";

const quick = process.argv.includes("--quick");
const url = process.env.POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";
const repeats = quick ? 1 : 3;
const N = quick ? 1_000 : 5_000;
const SERIAL_N = quick ? 300 : 1_000;
const LATENCY_N = quick ? 100 : 300;
const WINDOW = 1_000;
const tag = `${process.pid}`;

type Name = "repid" | "pg-boss" | "graphile-worker";
const ALL_NAMES: readonly Name[] = ["repid", "pg-boss", "graphile-worker"];
const chosen = process.argv.filter((a) => a.startsWith("--system=")).map((a) => a.slice(9));
const NAMES: readonly Name[] =
  chosen.length > 0 ? ALL_NAMES.filter((n) => chosen.includes(n)) : ALL_NAMES;

interface PgSystem {
  enqueue(n: number, mode: "serial" | "concurrent" | "bulk"): Promise<void>;
  /** Runs a worker of `concurrency` until `n` jobs ran; `onStart` sees each job's payload. */
  process(n: number, concurrency: number, onStart?: (data: unknown) => void): Promise<void>;
  /** Enqueues one job carrying `data` (for the latency rows). */
  send(data: { sentAt: number }): Promise<void>;
  close(): Promise<void>;
}

async function inWindows(n: number, send: (count: number) => Promise<unknown>): Promise<void> {
  for (let done = 0; done < n; done += WINDOW) await send(Math.min(WINDOW, n - done));
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

async function repidSystem(run: number): Promise<PgSystem> {
  const schema = `bench_repid_${tag}_${run}`;
  const connection = new Connection(new PostgresMessageBroker(url, { schema }));
  await connection.connect();
  const queue = new Queue("bench", { connection });
  await queue.declare();
  const job = new Job("noop", { queue, connection });
  return {
    async enqueue(n, mode) {
      if (mode === "serial") for (let i = 0; i < n; i++) await job.enqueue();
      else if (mode === "concurrent")
        await inWindows(n, (c) => Promise.all(Array.from({ length: c }, () => job.enqueue())));
      else
        await inWindows(n, (c) =>
          enqueueMany(
            Array.from({ length: c }, () => job),
            { connection },
          ),
        );
    },
    async process(n, concurrency, onStart) {
      const worker = new Worker({ connection, concurrency, messagesLimit: n, handleSignals: [] });
      worker.actor({ queue: "bench", name: "noop" }, async function noop() {});
      worker.actor({ queue: "bench", name: "timed" }, async function timed(data: unknown) {
        onStart?.(data);
      });
      await worker.run();
    },
    async send(data) {
      await new Job("timed", { queue, connection, args: data }).enqueue();
    },
    async close() {
      await connection.disconnect();
      await dropSchema(schema);
    },
  };
}

async function pgBossSystem(run: number): Promise<PgSystem> {
  const schema = `bench_pgboss_${tag}_${run}`;
  const boss = new PgBoss({ connectionString: url, schema, useListenNotify: true });
  (boss as unknown as NodeJS.EventEmitter).on("error", () => {});
  await boss.start();
  await boss.createQueue("bench", { notify: true });
  return {
    async enqueue(n, mode) {
      if (mode === "serial") for (let i = 0; i < n; i++) await boss.send("bench", {});
      else if (mode === "concurrent")
        await inWindows(n, (c) =>
          Promise.all(Array.from({ length: c }, () => boss.send("bench", {}))),
        );
      else
        await inWindows(n, (c) =>
          boss.insert(
            "bench",
            Array.from({ length: c }, () => ({ data: {} })),
          ),
        );
    },
    async process(n, concurrency, onStart) {
      let done = 0;
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      // pg-boss's way to run `concurrency` jobs at once: one worker fetching batches of that
      // size, fetching again at once while batches come back full.
      await boss.work(
        "bench",
        { batchSize: concurrency, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          await Promise.all(
            jobs.map(async (job) => {
              onStart?.(job.data);
              if (++done === n) finish();
            }),
          );
        },
      );
      await finished;
      await boss.offWork("bench");
    },
    async send(data) {
      await boss.send("bench", data);
    },
    async close() {
      await boss.stop({ graceful: false, close: true });
      await dropSchema(schema);
    },
  };
}

async function graphileSystem(run: number): Promise<PgSystem> {
  const schema = `bench_graphile_${tag}_${run}`;
  const utils = await makeWorkerUtils({ connectionString: url, schema });
  await utils.migrate();
  return {
    async enqueue(n, mode) {
      if (mode === "serial") for (let i = 0; i < n; i++) await utils.addJob("noop", {});
      else if (mode === "concurrent")
        await inWindows(n, (c) =>
          Promise.all(Array.from({ length: c }, () => utils.addJob("noop", {}))),
        );
      else
        await inWindows(n, (c) =>
          utils.addJobs(Array.from({ length: c }, () => ({ identifier: "noop", payload: {} }))),
        );
    },
    async process(n, concurrency, onStart) {
      let done = 0;
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const task = async (payload: unknown): Promise<void> => {
        onStart?.(payload);
        if (++done === n) finish();
      };
      const runner: Runner = await runGraphile({
        connectionString: url,
        schema,
        concurrency,
        noHandleSignals: true,
        pollInterval: 2_000,
        logger: silentLogger(),
        taskList: { noop: task, timed: task },
      });
      await finished;
      await runner.stop();
    },
    async send(data) {
      await utils.addJob("timed", data);
    },
    async close() {
      await utils.release();
      await dropSchema(schema);
    },
  };
}

/** graphile-worker logs every job through its logger: none here, as for the others. */
function silentLogger(): NonNullable<Parameters<typeof runGraphile>[0]["logger"]> {
  return new (class {
    scope(): this {
      return this;
    }
    error(): void {}
    warn(): void {}
    info(): void {}
    debug(): void {}
  })() as unknown as NonNullable<Parameters<typeof runGraphile>[0]["logger"]>;
}

const MAKERS: Record<Name, (run: number) => Promise<PgSystem>> = {
  repid: repidSystem,
  "pg-boss": pgBossSystem,
  "graphile-worker": graphileSystem,
};

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const now = (): number => performance.timeOrigin + performance.now();

/** Jobs sent one at a time to an idle worker: from the send to the actor's start, in ms. */
async function pickup(system: PgSystem): Promise<number[]> {
  const latencies: number[] = [];
  let next!: () => void;
  const running = system.process(LATENCY_N, 10, (data) => {
    latencies.push(now() - (data as { sentAt: number }).sentAt);
    next();
  });
  // The worker is up before the first send: a pause, then one job that is left out.
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < LATENCY_N; i++) {
    const started = new Promise<void>((resolve) => (next = resolve));
    await system.send({ sentAt: now() });
    await started;
  }
  await running;
  return latencies.slice(1).sort((a, b) => a - b);
}

interface Row {
  readonly scenario: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly figures: Record<Name, number[]>;
}

const rows: Row[] = [];
function row(scenario: string, unit: string, higherIsBetter: boolean): Row {
  const r: Row = {
    scenario,
    unit,
    higherIsBetter,
    figures: { repid: [], "pg-boss": [], "graphile-worker": [] },
  };
  rows.push(r);
  return r;
}

const serial = row(`enqueue, awaiting each (${SERIAL_N})`, "jobs/s", true);
const concurrent = row(`enqueue, 1,000 concurrent (${N})`, "jobs/s", true);
const bulk = row(`enqueue, bulk of 1,000 (${N})`, "jobs/s", true);
const c10 = row(`process ${N} no-op, concurrency 10`, "jobs/s", true);
const c100 = row(`process ${N} no-op, concurrency 100`, "jobs/s", true);
const p50 = row(`pickup latency p50, one job at a time`, "ms", false);
const p99 = row(`pickup latency p99, one job at a time`, "ms", false);

let run = 0;
for (let r = 0; r < repeats; r++) {
  for (let i = 0; i < NAMES.length; i++) {
    const name = NAMES[(i + r) % NAMES.length]!;
    const system = await MAKERS[name](++run);
    try {
      serial.figures[name].push(
        rate(SERIAL_N, await timed(() => system.enqueue(SERIAL_N, "serial"))),
      );
      await system.process(SERIAL_N, 100);
      concurrent.figures[name].push(rate(N, await timed(() => system.enqueue(N, "concurrent"))));
      c10.figures[name].push(rate(N, await timed(() => system.process(N, 10))));
      bulk.figures[name].push(rate(N, await timed(() => system.enqueue(N, "bulk"))));
      c100.figures[name].push(rate(N, await timed(() => system.process(N, 100))));
      const l = await pickup(system);
      p50.figures[name].push(Math.round(percentile(l, 50) * 100) / 100);
      p99.figures[name].push(Math.round(percentile(l, 99) * 100) / 100);
      process.stderr.write(`${name}: ${rows.map((x) => x.figures[name].at(-1)).join(", ")}\n`);
    } finally {
      await system.close();
    }
  }
}

const fmt = (x: number): string =>
  x.toLocaleString("en", { maximumFractionDigits: Math.abs(x) >= 100 ? 0 : 2 });
const cell = (xs: number[]): string => {
  const s = summarize(xs);
  return xs.length === 1 ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
};
console.log(
  `\nrepid on PostgreSQL against pg-boss and graphile-worker, same Postgres, ${repeats} repeat(s) alternating; medians (min–max)\n`,
);
console.log(`| scenario | unit | ${NAMES.join(" | ")} | first |`);
console.log(`| --- | --- | ${NAMES.map(() => "---:").join(" | ")} | --- |`);
for (const r of rows) {
  const medians = NAMES.map((n) => summarize(r.figures[n]).median);
  const best = r.higherIsBetter ? Math.max(...medians) : Math.min(...medians);
  const first = NAMES[medians.indexOf(best)]!;
  console.log(
    `| ${r.scenario} | ${r.unit} ${r.higherIsBetter ? "↑" : "↓"} | ${NAMES.map((n) => cell(r.figures[n])).join(" | ")} | ${first} |`,
  );
}
process.exit(0);

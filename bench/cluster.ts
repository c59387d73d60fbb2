/**
 * Scaling benchmark (issue 13): processing throughput of no-op jobs with 1, 2 and 4 worker
 * processes, for repid on one Redis, repid on a Redis Cluster (three queues, one per master) and
 * BullMQ on one Redis. The jobs are enqueued first; the clock runs from the moment a tenth of them
 * is done (processes started and warm) to the moment every queue is empty and nothing runs: the
 * rate is of the other nine tenths. Same three queues, same concurrency per process for all.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/cluster.ts [--quick] [--json out.json]
 *
 * Uses REDIS_URL (redis://127.0.0.1:6379) and REDIS_CLUSTER_URL (comma-separated nodes; the
 * cluster rows are left out without it). Every run uses its own prefix and deletes its keys.
 */
import { fork, type ChildProcess } from "node:child_process";
import { cpus } from "node:os";
import { writeFileSync } from "node:fs";
import { Queue as BullQueue } from "bullmq";
import { Cluster, Redis } from "ioredis";
import { Connection, Job, Queue, Worker, enqueueMany } from "repid";
import { RedisMessageBroker } from "repid/redis";
import { keySlot } from "../src/brokers/redis/cluster.js";
import { percentile, rate } from "./stats.js";

const quick = process.argv.includes("--quick");
const jsonArg = process.argv.find((a, i) => process.argv[i - 1] === "--json");
const N = quick ? 5_000 : 20_000;
const PROCESSES = [1, 2, 4];
const CONCURRENCY = 30;
const REPEATS = quick ? 1 : 2;
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const clusterUrl = process.env.REDIS_CLUSTER_URL;

type Setup = "repid, one Redis" | "repid, cluster (3 masters)" | "bullmq, one Redis";

/** Three queue names whose slots sit on three different masters of the cluster. */
async function spreadQueues(prefix: string): Promise<string[]> {
  if (!clusterUrl) return ["q0", "q1", "q2"];
  const nodes = clusterUrl.split(",").map((u) => new URL(u));
  const admin = new Cluster(
    nodes.map((u) => ({ host: u.hostname, port: Number(u.port) })),
    { lazyConnect: true },
  );
  await admin.connect();
  const slots = (await admin.cluster("SLOTS")) as unknown as [number, number, [string, number]][];
  admin.disconnect();
  const byMaster = new Map<string, string>();
  for (let i = 0; byMaster.size < 3 && i < 1000; i++) {
    const slot = keySlot(`${prefix}:{q${i}}:msg`);
    const range = slots.find(([from, to]) => slot >= from && slot <= to)!;
    const master = `${range[2][0]}:${range[2][1]}`;
    if (!byMaster.has(master)) byMaster.set(master, `q${i}`);
  }
  return [...byMaster.values()];
}

async function startChildren(
  system: "repid" | "bullmq",
  url: string,
  queues: readonly string[],
  count: number,
  prefix: string,
): Promise<ChildProcess[]> {
  const children = Array.from({ length: count }, () =>
    fork(
      new URL("./cluster-child.ts", import.meta.url).pathname,
      [system, url, queues.join(","), String(CONCURRENCY), prefix],
      { execArgv: ["--import", "tsx"], stdio: "inherit" },
    ),
  );
  await Promise.all(
    children.map((c) => new Promise<void>((resolve) => c.once("message", () => resolve()))),
  );
  return children;
}

/** Polls `left()` (jobs not yet done) and returns the rate of the last nine tenths of `N`. */
async function steadyRate(left: () => Promise<number>): Promise<number> {
  let t1 = 0;
  let counted = 0;
  for (;;) {
    const now = await left();
    if (t1 === 0 && now <= N * 0.9) {
      t1 = performance.now();
      counted = now;
    }
    if (now === 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return rate(counted, performance.now() - t1);
}

async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          c.once("exit", () => resolve());
          c.send("stop");
        }),
    ),
  );
}

async function runRepid(url: string, processes: number, run: number): Promise<number> {
  const prefix = `bench-cluster-${process.pid}-${run}`;
  const queues = await spreadQueues(prefix);
  const connection = new Connection(new RedisMessageBroker(url, { prefix }));
  await connection.connect();
  for (const q of queues) await new Queue(q, { connection }).declare();
  const jobs = queues.map((q) => new Job(`noop_${q}`, { queue: q, connection }));
  for (let sent = 0; sent < N; sent += 999) {
    const batch = Array.from({ length: Math.min(999, N - sent) }, (_, i) => jobs[i % 3]!);
    await enqueueMany(batch, { connection });
  }
  const children = await startChildren("repid", url, queues, processes, prefix);
  children.forEach((c) => c.send("go"));
  const broker = connection.broker;
  const jobsPerSecond = await steadyRate(async () => {
    const counts = await Promise.all(queues.map((q) => broker.counts(q)));
    return counts.reduce((sum, c) => sum + c.ready + c.running + c.delayed, 0);
  });
  await stopChildren(children);
  for (const q of queues) await new Queue(q, { connection }).delete();
  await connection.disconnect();
  return jobsPerSecond;
}

async function runBullmq(processes: number, run: number): Promise<number> {
  const prefix = `bench-cluster-bull-${process.pid}-${run}`;
  const queues = ["q0", "q1", "q2"];
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const bull = queues.map((q) => new BullQueue(q, { connection, prefix }));
  const opts = { removeOnComplete: true, removeOnFail: true };
  for (let sent = 0; sent < N; sent += 999) {
    const count = Math.min(999, N - sent);
    await Promise.all(
      bull.map((b, k) =>
        b.addBulk(
          Array.from({ length: Math.ceil((count - k) / 3) }, () => ({
            name: "noop",
            data: {},
            opts,
          })),
        ),
      ),
    );
  }
  const children = await startChildren("bullmq", redisUrl, queues, processes, prefix);
  children.forEach((c) => c.send("go"));
  const jobsPerSecond = await steadyRate(async () => {
    const counts = await Promise.all(bull.map((b) => b.getJobCounts("waiting", "active")));
    return counts.reduce((sum, c) => sum + (c.waiting ?? 0) + (c.active ?? 0), 0);
  });
  await stopChildren(children);
  for (const b of bull) await b.obliterate({ force: true });
  await Promise.all(bull.map((b) => b.close()));
  connection.disconnect();
  return jobsPerSecond;
}

/**
 * Pickup latency of an idle worker blocked on the three queues (on a cluster: on three masters):
 * one job at a time, each enqueued once the previous one has started; enqueue to start, ms.
 */
async function pickupLatency(url: string, run: number): Promise<number[]> {
  const prefix = `bench-cluster-lat-${process.pid}-${run}`;
  const queues = await spreadQueues(prefix);
  const connection = new Connection(new RedisMessageBroker(url, { prefix }));
  await connection.connect();
  for (const q of queues) await new Queue(q, { connection }).declare();
  const worker = new Worker({ connection, concurrency: 1, handleSignals: [] });
  let started: ((ms: number) => void) | undefined;
  for (const q of queues) {
    worker.actor({ queue: q, name: `lat_${q}` }, async function lat(args: { t: number }) {
      started?.(performance.timeOrigin + performance.now() - args.t);
    });
  }
  const running = worker.run();
  const latencies: number[] = [];
  const count = quick ? 100 : 300;
  for (let i = 0; i < count + 20; i++) {
    const q = queues[i % queues.length]!;
    // Let the worker go idle (blocked) before each job.
    await new Promise((r) => setTimeout(r, 5));
    const ms = await new Promise<number>((resolve) => {
      started = resolve;
      void new Job(`lat_${q}`, {
        queue: q,
        connection,
        args: { t: performance.timeOrigin + performance.now() },
      }).enqueue();
    });
    if (i >= 20) latencies.push(ms); // the first ones warm up connections and scripts
  }
  worker.stop();
  await running;
  for (const q of queues) await new Queue(q, { connection }).delete();
  await connection.disconnect();
  return latencies;
}

const setups: [Setup, (processes: number, run: number) => Promise<number>][] = [
  ["repid, one Redis", (p, r) => runRepid(redisUrl, p, r)],
  ...(clusterUrl
    ? [
        ["repid, cluster (3 masters)", (p: number, r: number) => runRepid(clusterUrl, p, r)] as [
          Setup,
          (p: number, r: number) => Promise<number>,
        ],
      ]
    : []),
  ["bullmq, one Redis", (p, r) => runBullmq(p, r)],
];

const figures = new Map<string, number[]>();
let run = 0;
for (let r = 0; r < REPEATS; r++) {
  for (const processes of PROCESSES) {
    for (const [setup, measure] of setups) {
      const jobsPerSecond = await measure(processes, run++);
      const key = `${setup}|${processes}`;
      figures.set(key, [...(figures.get(key) ?? []), jobsPerSecond]);
      console.log(
        `  ${setup}, ${processes} process(es): ${jobsPerSecond.toLocaleString("en")} jobs/s`,
      );
    }
  }
}

const best = (key: string): number => Math.max(...(figures.get(key) ?? [0]));
const worst = (key: string): number => Math.min(...(figures.get(key) ?? [0]));
console.log(
  `\nScaling: ${N.toLocaleString("en")} no-op jobs over 3 queues, concurrency ${CONCURRENCY} per process, rate of the last 90 %, best of ${REPEATS} (jobs/s). This machine has ${cpus().length} cores: the worker processes, the benchmark and every Redis share them.`,
);
console.log(`| setup | ${PROCESSES.map((p) => `${p} process${p > 1 ? "es" : ""}`).join(" | ")} |`);
console.log(`|---|${PROCESSES.map(() => "---:").join("|")}|`);
for (const [setup] of setups) {
  const cells = PROCESSES.map((p) => best(`${setup}|${p}`));
  const scale = cells.map(
    (c, i) =>
      `${c.toLocaleString("en")} (×${(c / cells[0]!).toFixed(2)}; worst ${worst(`${setup}|${PROCESSES[i]}`).toLocaleString("en")})`,
  );
  console.log(`| ${setup} | ${scale.join(" | ")} |`);
}
console.log(
  `\nPickup latency of an idle worker blocked on 3 queues (on a cluster: on 3 masters), one job at a time (ms):`,
);
console.log("| setup | p50 | p99 |\n|---|---:|---:|");
for (const [setup, url] of [
  ["repid, one Redis", redisUrl],
  ...(clusterUrl ? [["repid, cluster (3 masters)", clusterUrl]] : []),
] as [string, string][]) {
  const l = (await pickupLatency(url, run++)).sort((a, b) => a - b);
  const r2 = (x: number): string => (Math.round(x * 100) / 100).toString();
  console.log(`| ${setup} | ${r2(percentile(l, 50))} | ${r2(percentile(l, 99))} |`);
}
if (jsonArg) writeFileSync(jsonArg, JSON.stringify(Object.fromEntries(figures), null, 2));
process.exit(0);

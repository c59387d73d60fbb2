/**
 * Flow-control benchmark (issue 26), repid on Redis only (BullMQ's group limits are Pro-only):
 * - processing throughput of one no-op actor over N jobs spread over 1,000 keys with
 *   `concurrency: { limit: 10, key }`, against the same actor with no limits and with a limit
 *   per actor only (`concurrency: 1000`); jobs enqueued first, one worker (concurrency 100);
 * - fairness: 100,000 jobs of one key, then 10 of another, `concurrency: { limit: 2, key }`:
 *   the time from `worker.run()` to the small key's first start, and how many of the big key's
 *   started before it.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/limits.ts [--quick]
 */
import { Redis } from "ioredis";
import { Connection, Job, Queue, Worker, enqueueMany, type ActorOptions } from "repid";
import { RedisMessageBroker } from "repid/redis";
import { deleteKeys } from "./redis-stats.js";
import { rate, summarize, type Summary } from "./stats.js";

const quick = process.argv.includes("--quick");
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const N = quick ? 5_000 : 20_000;
const KEYS = 1_000;
const BIG = quick ? 20_000 : 100_000;
const REPEATS = quick ? 1 : 3;
const PREFIX = `bench-limits-${process.pid}`;
let run = 0;

type Variant = "no limits" | "per actor (1000)" | "1,000 keys (10 each)";
const VARIANTS: Record<Variant, Pick<ActorOptions, "concurrency">> = {
  "no limits": {},
  "per actor (1000)": { concurrency: 1000 },
  "1,000 keys (10 each)": { concurrency: { limit: 10, key: "key" } },
};

async function connection(): Promise<Connection> {
  const c = new Connection(new RedisMessageBroker(url, { prefix: `${PREFIX}-${++run}` }));
  await c.connect();
  return c;
}

async function enqueueAll(c: Connection, jobs: Job[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += 1000)
    await enqueueMany(jobs.slice(i, i + 1000), { connection: c });
}

/** Declares the actor's limits as a worker does at its start (it is stopped at once). */
async function declare(c: Connection, options: ActorOptions): Promise<void> {
  const worker = new Worker({ connection: c, handleSignals: [] });
  worker.actor(options, async (_args: { key: string }) => {});
  const running = worker.run();
  worker.stop();
  await running;
}

/** Jobs/s processing N jobs enqueued beforehand (after the limits were declared). */
async function throughput(variant: Variant): Promise<number> {
  const c = await connection();
  await new Queue("default", { connection: c }).declare();
  const options = { name: "sync", ...VARIANTS[variant] };
  await declare(c, options);
  await enqueueAll(
    c,
    Array.from(
      { length: N },
      (_, n) => new Job("sync", { args: { key: `k${n % KEYS}` }, connection: c }),
    ),
  );
  const worker = new Worker({
    connection: c,
    concurrency: 100,
    messagesLimit: N,
    handleSignals: [],
  });
  worker.actor(options, async (_args: { key: string }) => {});
  const t0 = performance.now();
  await worker.run();
  const ms = performance.now() - t0;
  await c.disconnect();
  return rate(N, ms);
}

/** ms from `run()` to the small key's first start behind BIG jobs of one key; big ones before it. */
async function fairness(): Promise<{ ms: number; bigBefore: number }> {
  const c = await connection();
  await new Queue("default", { connection: c }).declare();
  const options = { name: "sync", concurrency: { limit: 2, key: "key" } } as const;
  await declare(c, options);
  await enqueueAll(
    c,
    Array.from({ length: BIG }, () => new Job("sync", { args: { key: "big" }, connection: c })),
  );
  await enqueueAll(
    c,
    Array.from({ length: 10 }, () => new Job("sync", { args: { key: "small" }, connection: c })),
  );
  let bigBefore = 0;
  let t1 = 0;
  const worker = new Worker({ connection: c, concurrency: 10, handleSignals: [] });
  worker.actor(options, async (args: { key: string }) => {
    if (t1 !== 0) return;
    if (args.key === "small") {
      t1 = performance.now();
      worker.stop();
    } else bigBefore++;
  });
  const t0 = performance.now();
  await worker.run();
  await c.disconnect();
  return { ms: t1 - t0, bigBefore };
}

async function main(): Promise<void> {
  const figures: Record<Variant, number[]> = {
    "no limits": [],
    "per actor (1000)": [],
    "1,000 keys (10 each)": [],
  };
  const order = Object.keys(VARIANTS) as Variant[];
  for (let r = 0; r < REPEATS; r++) {
    for (let i = 0; i < order.length; i++) {
      const v = order[(i + r) % order.length]!;
      figures[v].push(await throughput(v));
    }
  }
  const fair: { ms: number; bigBefore: number }[] = [];
  for (let r = 0; r < REPEATS; r++) fair.push(await fairness());
  const fmt = (s: Summary): string =>
    `${s.median.toLocaleString("en")} (${s.min.toLocaleString("en")}–${s.max.toLocaleString("en")})`;
  const base = summarize(figures["no limits"]).median;
  console.log(`| limits, ${N.toLocaleString("en")} no-op jobs, c=100 | jobs/s | ÷ no limits |`);
  console.log("|---|---|---|");
  for (const v of order) {
    const s = summarize(figures[v]);
    console.log(`| ${v} | ${fmt(s)} | ${(s.median / base).toFixed(2)}× |`);
  }
  const ms = summarize(fair.map((f) => f.ms));
  const before = summarize(fair.map((f) => f.bigBefore));
  console.log(
    `fairness: a small key's first job started ${ms.median.toFixed(1)} ms (${ms.min.toFixed(1)}–${ms.max.toFixed(1)}) after run(), behind ${BIG.toLocaleString("en")} jobs of a big key; big-key jobs started before it: ${before.median} (${before.min}–${before.max})`,
  );
  const admin = new Redis(url);
  await deleteKeys(admin, `${PREFIX}-*`);
  admin.disconnect();
}

await main();
process.exit(0);

/**
 * Flow overhead (issue 27), repid on Redis: N three-step chains of no-op actors against the same
 * 3 × N jobs enqueued separately (one worker, concurrency 100, jobs enqueued in batches of 100),
 * from the first enqueue until every job ran. A chain's steps run one after another, so the
 * comparison is of total throughput with N chains in flight, not of one chain's latency.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/flows.ts [--quick]
 */
import { Redis } from "ioredis";
import { z } from "zod";
import {
  Connection,
  Job,
  Queue,
  Router,
  Worker,
  createClient,
  defineRegistry,
  enqueueMany,
  flow,
} from "repid";
import { RedisMessageBroker } from "repid/redis";
import { deleteKeys } from "./redis-stats.js";
import { rate, summarize } from "./stats.js";

const quick = process.argv.includes("--quick");
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const N = quick ? 1_000 : 5_000;
const REPEATS = quick ? 1 : 3;
const PREFIX = `bench-flows-${process.pid}`;
let run = 0;

const step = <N extends string>(name: N) => ({
  name,
  property: name,
  queue: "default",
  args: z.object({ n: z.number() }),
  result: z.object({ n: z.number() }),
});
const registry = defineRegistry({ a: step("a"), b: step("b"), c: step("c") });

function router(done: () => void): Router {
  const r = new Router();
  for (const name of ["a", "b", "c"])
    r.actor({ name }, async (x: { n: number }) => {
      done();
      return x;
    });
  return r;
}

async function once(kind: "chains" | "separate"): Promise<number> {
  const connection = new Connection(new RedisMessageBroker(url, { prefix: `${PREFIX}-${++run}` }));
  await connection.connect();
  await new Queue("default", { connection }).declare();
  const jobs = createClient(registry, connection);
  let left = 3 * N;
  let resolve = (): void => {};
  const finished = new Promise<void>((r) => (resolve = r));
  const worker = new Worker({
    connection,
    routers: [router(() => --left === 0 && resolve())],
    registry,
    concurrency: 100,
    handleSignals: [],
  });
  const running = worker.run();
  const t0 = performance.now();
  for (let i = 0; i < N; i += 100) {
    const batch = Array.from({ length: Math.min(100, N - i) }, (_, k) => i + k);
    if (kind === "chains") {
      await Promise.all(
        batch.map((n) =>
          flow(jobs.a.with({ n })).then(jobs.b).then(jobs.c).enqueue({ connection }),
        ),
      );
    } else {
      await enqueueMany(
        batch.flatMap((n) =>
          ["a", "b", "c"].map((name) => new Job(name, { args: { n }, connection })),
        ),
        { connection },
      );
    }
  }
  await finished;
  const ms = performance.now() - t0;
  worker.stop();
  await running;
  await connection.disconnect();
  return rate(3 * N, ms);
}

const figures = { chains: [] as number[], separate: [] as number[] };
for (let r = 0; r < REPEATS; r++) {
  for (const kind of r % 2 ? (["separate", "chains"] as const) : (["chains", "separate"] as const))
    figures[kind].push(await once(kind));
}
const chains = summarize(figures.chains);
const separate = summarize(figures.separate);
console.log(`| flows, ${N.toLocaleString("en")} × 3 no-op jobs, c=100 | jobs/s | ÷ separate |`);
console.log("|---|---|---|");
console.log(`| separate jobs | ${separate.median.toLocaleString("en")} | 1.00× |`);
console.log(
  `| three-step chains | ${chains.median.toLocaleString("en")} | ${(chains.median / separate.median).toFixed(2)}× |`,
);
const admin = new Redis(url);
await deleteKeys(admin, `${PREFIX}-*`);
admin.disconnect();
process.exit(0);

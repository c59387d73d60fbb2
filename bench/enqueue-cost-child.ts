/**
 * One side of bench/enqueue-cost.ts: serial enqueues against the given Redis, from the repid
 * sources under REPID_ROOT (this tree or an older copy), printing one JSON line per phase; bee-queue's
 * `createJob({}).save()` (as in bench/systems.ts) is measured the same way.
 */
import BeeQueue from "bee-queue";
import { Redis } from "ioredis";

const root = process.env.REPID_ROOT ?? new URL("..", import.meta.url).pathname;
const url = process.env.REDIS_URL!;
const WARM = Number(process.env.WARM ?? 2_000);
const N = Number(process.env.N ?? 5_000);
const phases = (process.env.PHASES ?? "evalsha,broker,job,bee-queue").split(",");

const { RedisMessageBroker } = await import(`${root}/src/brokers/redis/redis-broker.ts`);
const { Connection } = await import(`${root}/src/connection/connection.ts`);
const { Queue } = await import(`${root}/src/producer/queue.ts`);
const { Job } = await import(`${root}/src/producer/job.ts`);

const admin = new Redis(url);
const raw = new Redis(url);
const broker = new RedisMessageBroker(url, { prefix: `cost${process.pid}` });
const connection = new Connection(broker);
await connection.connect();
const queue = new Queue("q", { connection });
await queue.declare();
const job = new Job("noop", { queue, connection });
const sha = (await raw.script("LOAD", "return 1")) as string;
const bee = new BeeQueue(`q${process.pid}`, {
  prefix: `bee${process.pid}`,
  redis: { url },
  isWorker: false,
  getEvents: false,
  sendEvents: false,
  storeJobs: false,
});
await bee.ready();

async function stats(): Promise<{ calls: number; usec: number; bytes: number }> {
  const info = (await admin.info("commandstats")) + (await admin.info("stats"));
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(info);
  const b = /total_net_input_bytes:(\d+)/.exec(info);
  return { calls: Number(m?.[1] ?? 0), usec: Number(m?.[2] ?? 0), bytes: Number(b?.[1] ?? 0) };
}

const run: Record<string, () => Promise<unknown>> = {
  evalsha: () => raw.evalsha(sha, 0),
  broker: () => broker.enqueue([job.toMessage()]),
  job: () => job.enqueue(),
  "bee-queue": () => bee.createJob({}).save(),
};

for (const phase of phases) {
  const f = run[phase]!;
  for (let i = 0; i < WARM; i++) await f();
  const s0 = await stats();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await f();
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage(c0);
  const s1 = await stats();
  const calls = s1.calls - s0.calls;
  console.log(
    JSON.stringify({
      phase,
      cpuUs: (c1.user + c1.system) / N,
      wallUs: Number(t1 - t0) / 1000 / N,
      redisUs: calls > 0 ? (s1.usec - s0.usec) / calls : 0,
      bytes: (s1.bytes - s0.bytes) / N,
    }),
  );
}
await queue.delete();
await bee.destroy();
await bee.close();
await connection.disconnect();
admin.disconnect();
raw.disconnect();
process.exit(0);

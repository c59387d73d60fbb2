/**
 * RabbitMQ rows for the benchmark: enqueue and processing throughput and pickup latency of the
 * RabbitMQ broker next to the Redis broker's, in one run, same jobs, same process.
 *
 *   NODE_OPTIONS=--conditions=repid-source tsx bench/rabbitmq.ts [--quick] [--json out.json]
 *
 * Uses RABBITMQ_URL (amqp://guest:guest@127.0.0.1:5672) and REDIS_URL (redis://127.0.0.1:6379);
 * every run declares its own queue and deletes it afterwards.
 */
import { writeFileSync } from "node:fs";
import { Connection, Job, Queue, Worker, enqueueMany, type MessageBroker } from "repid";
import { RedisMessageBroker } from "repid/redis";
// Through the source until the package exports "repid/rabbitmq".
import { RabbitMessageBroker } from "../src/rabbitmq.js";
import { percentile, rate } from "./stats.js";

const quick = process.argv.includes("--quick");
const jsonArg = process.argv.find((a, i) => process.argv[i - 1] === "--json");
const N = quick ? 1_000 : 5_000;
const LATENCY_N = quick ? 200 : 1_000;
const CONCURRENCY = 50;
const WINDOW = 500;
const rabbitUrl = process.env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

interface Figures {
  readonly broker: string;
  readonly enqueueConcurrent: number;
  readonly enqueueBulk: number;
  readonly process: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
}

const brokers: [string, () => MessageBroker][] = [
  ["redis", () => new RedisMessageBroker(redisUrl, { prefix: "repid-bench" })],
  ["rabbitmq", () => new RabbitMessageBroker(rabbitUrl, { prefix: "repid-bench" })],
];

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function measure(name: string, make: () => MessageBroker): Promise<Figures> {
  const connection = new Connection(make());
  await connection.connect();
  const queueName = `bench-rabbitmq-${process.pid}-${name}`;
  const queue = new Queue(queueName, { connection });
  await queue.declare();
  await queue.flush();
  const job = new Job("noop", { queue, connection });
  try {
    const concurrentMs = await timed(async () => {
      for (let sent = 0; sent < N; sent += WINDOW) {
        await Promise.all(Array.from({ length: WINDOW }, () => job.enqueue()));
      }
    });
    const processMs = await timed(() => processAll(connection, queueName, N));
    const bulkMs = await timed(async () => {
      for (let sent = 0; sent < N; sent += WINDOW) {
        await enqueueMany(
          Array.from({ length: WINDOW }, () => job),
          { connection },
        );
      }
    });
    await processAll(connection, queueName, N);
    const latencies = await pickup(connection, queueName);
    return {
      broker: name,
      enqueueConcurrent: rate(N, concurrentMs),
      enqueueBulk: rate(N, bulkMs),
      process: rate(N, processMs),
      latencyP50: percentile(latencies, 50),
      latencyP99: percentile(latencies, 99),
    };
  } finally {
    await queue.delete();
    await connection.disconnect();
  }
}

async function processAll(connection: Connection, queueName: string, n: number): Promise<void> {
  const worker = new Worker({
    connection,
    concurrency: CONCURRENCY,
    messagesLimit: n,
    handleSignals: [],
  });
  worker.actor({ queue: queueName }, async function noop() {});
  await worker.run();
}

/** Jobs sent one at a time to a waiting worker: how long from enqueue to the actor's start. */
async function pickup(connection: Connection, queueName: string): Promise<number[]> {
  const latencies: number[] = [];
  let next!: () => void;
  const worker = new Worker({
    connection,
    concurrency: 10,
    messagesLimit: LATENCY_N,
    handleSignals: [],
  });
  worker.actor({ queue: queueName }, async function timed(sentAt: number) {
    latencies.push(performance.timeOrigin + performance.now() - sentAt);
    next();
  });
  const running = worker.run();
  for (let i = 0; i < LATENCY_N; i++) {
    const started = new Promise<void>((resolve) => (next = resolve));
    const sentAt = performance.timeOrigin + performance.now();
    await new Job("timed", { queue: queueName, connection, args: sentAt }).enqueue();
    await started;
  }
  await running;
  return latencies.sort((a, b) => a - b);
}

const results: Figures[] = [];
for (const [name, make] of brokers) results.push(await measure(name, make));

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits });
console.log(`\nrepid brokers, ${N} no-op jobs (latency: ${LATENCY_N} jobs one at a time)\n`);
console.log(
  "| broker | enqueue, 500 at once (jobs/s) | enqueueMany (jobs/s) | process, concurrency 50 (jobs/s) | pickup p50 (ms) | pickup p99 (ms) |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  console.log(
    `| ${r.broker} | ${fmt(r.enqueueConcurrent)} | ${fmt(r.enqueueBulk)} | ${fmt(r.process)} | ${fmt(r.latencyP50, 2)} | ${fmt(r.latencyP99, 2)} |`,
  );
}
if (jsonArg) writeFileSync(jsonArg, JSON.stringify(results, null, 2));

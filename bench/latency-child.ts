/**
 * The worker side of the latency scenario, in its own process: runs a worker (repid, BullMQ or
 * bee-queue) with the given concurrency and, for each job, records how long after its enqueue it
 * started. Reports over IPC.
 */
import BeeQueue from "bee-queue";
import { Worker as BullWorker } from "bullmq";
import { Redis } from "ioredis";
import { Connection, Worker } from "repid";
import { RedisMessageBroker } from "repid/redis";
import { BULL_PREFIX, REPID_PREFIX, beeSettings } from "./systems.js";

const [system, url, queueName, countText, concurrencyText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const count = Number(countText);
const concurrency = Number(concurrencyText);
const latencies: number[] = [];

const now = (): number => performance.timeOrigin + performance.now();
let finish!: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));

function record(sentAt: number): void {
  latencies.push(now() - sentAt);
  if (latencies.length === count) finish();
}

if (system === "repid") {
  const connection = new Connection(new RedisMessageBroker(url, { prefix: REPID_PREFIX }));
  const worker = new Worker({ connection, concurrency, messagesLimit: count, handleSignals: [] });
  worker.actor({ queue: queueName }, async function timed(args: { sentAt: number }) {
    record(args.sentAt);
  });
  const running = worker.run();
  process.send!({ ready: true });
  await finished;
  await running;
  await connection.disconnect();
} else if (system === "bullmq") {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const worker = new BullWorker(
    queueName,
    async (job) => record((job.data as { sentAt: number }).sentAt),
    { connection, prefix: BULL_PREFIX, concurrency },
  );
  await worker.waitUntilReady();
  process.send!({ ready: true });
  await finished;
  await worker.close();
  connection.disconnect();
} else {
  const worker = new BeeQueue<{ sentAt: number }>(queueName, beeSettings(url, true));
  await worker.ready();
  worker.process(concurrency, async (job) => record(job.data.sentAt));
  process.send!({ ready: true });
  await finished;
  await worker.close();
}
process.send!({ latencies }, () => process.exit(0));

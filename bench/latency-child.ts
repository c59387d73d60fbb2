/**
 * The worker side of the latency scenario, in its own process: runs a worker (repid or BullMQ)
 * and, for each job, records how long after its enqueue it started. Reports over IPC.
 */
import { Worker as BullWorker } from "bullmq";
import { Redis } from "ioredis";
import { Connection, Worker } from "repid";
import { RedisMessageBroker } from "repid/redis";

const [system, url, queueName, countText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const count = Number(countText);
const latencies: number[] = [];

const now = (): number => performance.timeOrigin + performance.now();
let finish!: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));

function record(sentAt: number): void {
  latencies.push(now() - sentAt);

  if (latencies.length === count) finish();
}

if (system === "repid") {
  const connection = new Connection(new RedisMessageBroker(url, { prefix: "repid-bench" }));
  const worker = new Worker({
    connection,
    concurrency: 100,
    messagesLimit: count,
    handleSignals: [],
  });
  worker.actor({ queue: queueName }, async function timed(args: { sentAt: number }) {
    record(args.sentAt);
  });
  const running = worker.run();
  process.send!({ ready: true });
  await finished;
  await running;
  await connection.disconnect();
} else {
  const worker = new BullWorker(
    queueName,
    async (job) => record((job.data as { sentAt: number }).sentAt),
    {
      connection: new Redis(url, { maxRetriesPerRequest: null }),
      prefix: "bull-bench",
      concurrency: 100,
    },
  );
  await worker.waitUntilReady();
  process.send!({ ready: true });
  await finished;
  await worker.close();
}
process.send!({ latencies }, () => process.exit(0));

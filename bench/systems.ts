/**
 * The two systems under test behind one small interface, so each scenario is written once.
 * Both use the same Redis; every run gets its own queue name and flushes it afterwards.
 */
import { Queue as BullQueue, Worker as BullWorker, type Job as BullJob } from "bullmq";
import { Redis } from "ioredis";
import {
  Connection,
  InMemoryMessageBroker,
  Job,
  Queue,
  Worker,
  enqueueMany,
  type MessageBroker,
} from "repid";
import { RedisMessageBroker } from "repid/redis";

export interface System {
  readonly name: string;
  /** Enqueue `n` no-op jobs; mode says how the producer waits. */
  enqueue(n: number, mode: "serial" | "concurrent" | "bulk"): Promise<void>;
  /** Process every enqueued job with the given concurrency; resolves when all are done. */
  process(n: number, concurrency: number): Promise<void>;
  close(): Promise<void>;
}

const BULK = 1000;
const CONCURRENT_WINDOW = 1000;

async function inWindows(
  n: number,
  window: number,
  send: (count: number) => Promise<unknown>,
): Promise<void> {
  for (let done = 0; done < n; done += window) await send(Math.min(window, n - done));
}

export async function repidSystem(url: string | "memory", queueName: string): Promise<System> {
  const broker: MessageBroker =
    url === "memory"
      ? new InMemoryMessageBroker()
      : new RedisMessageBroker(url, { prefix: "repid-bench" });
  const connection = new Connection(broker);
  await connection.connect();
  const queue = new Queue(queueName, { connection });
  await queue.declare();
  await queue.flush();
  const job = new Job("noop", { queue, connection });
  return {
    name: url === "memory" ? "repid (in-memory)" : "repid",
    async enqueue(n, mode) {
      if (mode === "serial") for (let i = 0; i < n; i++) await job.enqueue();
      else if (mode === "concurrent") {
        await inWindows(n, CONCURRENT_WINDOW, (c) =>
          Promise.all(Array.from({ length: c }, () => job.enqueue())),
        );
      } else
        await inWindows(n, BULK, (c) =>
          enqueueMany(
            Array.from({ length: c }, () => job),
            { connection },
          ),
        );
    },
    async process(n, concurrency) {
      const worker = new Worker({ connection, concurrency, messagesLimit: n, handleSignals: [] });
      worker.actor({ queue: queueName }, async function noop() {});
      await worker.run();
    },
    async close() {
      await queue.delete();
      await connection.disconnect();
    },
  };
}

export async function bullmqSystem(url: string, queueName: string): Promise<System> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new BullQueue(queueName, { connection, prefix: "bull-bench" });
  await queue.obliterate({ force: true });
  const opts = { removeOnComplete: true, removeOnFail: true };
  return {
    name: "bullmq",
    async enqueue(n, mode) {
      if (mode === "serial") for (let i = 0; i < n; i++) await queue.add("noop", {}, opts);
      else if (mode === "concurrent") {
        await inWindows(n, CONCURRENT_WINDOW, (c) =>
          Promise.all(Array.from({ length: c }, () => queue.add("noop", {}, opts))),
        );
      } else {
        await inWindows(n, BULK, (c) =>
          queue.addBulk(Array.from({ length: c }, () => ({ name: "noop", data: {}, opts }))),
        );
      }
    },
    async process(n, concurrency) {
      let done = 0;
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const worker = new BullWorker(queueName, async (_job: BullJob) => {}, {
        connection: new Redis(url, { maxRetriesPerRequest: null }),
        prefix: "bull-bench",
        concurrency,
        autorun: false,
      });
      worker.on("completed", () => {
        if (++done === n) finish();
      });
      void worker.run();
      await finished;
      await worker.close();
    },
    async close() {
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    },
  };
}

/**
 * The three systems under test behind one small interface, so each scenario is written once:
 * repid, BullMQ and bee-queue, each in its leanest documented set-up for no-op jobs (BullMQ and
 * bee-queue remove finished jobs; bee-queue neither stores job objects nor sends events).
 * All use the same Redis under key prefixes of this run (`PREFIX`), deleted at the end.
 */
import BeeQueue from "bee-queue";
import { Queue as BullQueue, Worker as BullWorker } from "bullmq";
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

export type SystemName = "repid" | "bullmq" | "bee-queue";
export const SYSTEMS: readonly SystemName[] = ["repid", "bullmq", "bee-queue"];

/** Every key this run creates starts with this (children inherit it through the environment). */
export const PREFIX = (process.env.BENCH_PREFIX ??= `bench-${process.pid}`);
export const REPID_PREFIX = `${PREFIX}-repid`;
export const BULL_PREFIX = `${PREFIX}-bull`;
export const BEE_PREFIX = `${PREFIX}-bq`;

export interface System {
  readonly name: SystemName | "repid (in-memory)";
  /** Enqueue `n` no-op jobs; mode says how the producer waits. */
  enqueue(n: number, mode: "serial" | "concurrent" | "bulk"): Promise<void>;
  /**
   * Process `n` jobs with the given concurrency; resolves when `n` are done. `onJob` is called
   * with the running count after each one.
   */
  process(n: number, concurrency: number, onJob?: (done: number) => void): Promise<void>;
  /** Jobs waiting in the queue. */
  waiting(): Promise<number>;
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

export function makeSystem(name: SystemName, url: string, queue: string): Promise<System> {
  if (name === "repid") return repidSystem(url, queue);
  if (name === "bullmq") return bullmqSystem(url, queue);
  return beeQueueSystem(url, queue);
}

export async function repidSystem(url: string | "memory", queueName: string): Promise<System> {
  const broker: MessageBroker =
    url === "memory"
      ? new InMemoryMessageBroker()
      : new RedisMessageBroker(url, { prefix: REPID_PREFIX });
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
    async process(n, concurrency, onJob) {
      const worker = new Worker({ connection, concurrency, messagesLimit: n, handleSignals: [] });
      let done = 0;
      worker.actor(
        { queue: queueName },
        onJob
          ? async function noop() {
              onJob(++done);
            }
          : async function noop() {},
      );
      await worker.run();
    },
    waiting: async () => (await queue.counts()).ready,
    async close() {
      await queue.delete();
      await connection.disconnect();
    },
  };
}

export async function bullmqSystem(url: string, queueName: string): Promise<System> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new BullQueue(queueName, { connection, prefix: BULL_PREFIX });
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
    async process(n, concurrency, onJob) {
      let done = 0;
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const workerConnection = new Redis(url, { maxRetriesPerRequest: null });
      const worker = new BullWorker(queueName, async () => {}, {
        connection: workerConnection,
        prefix: BULL_PREFIX,
        concurrency,
        autorun: false,
      });
      worker.on("completed", () => {
        done++;
        onJob?.(done);
        if (done === n) finish();
      });
      void worker.run();
      await finished;
      await worker.close();
      workerConnection.disconnect();
    },
    waiting: () => queue.getWaitingCount(),
    async close() {
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    },
  };
}

/** bee-queue's settings for a lean producer or worker (no events, no job objects kept). */
export function beeSettings(url: string, isWorker: boolean): BeeQueue.QueueSettings {
  return {
    prefix: BEE_PREFIX,
    redis: { url },
    isWorker,
    getEvents: false,
    sendEvents: false,
    storeJobs: false,
    removeOnSuccess: true,
    removeOnFailure: true,
  };
}

export async function beeQueueSystem(url: string, queueName: string): Promise<System> {
  const producer = new BeeQueue(queueName, beeSettings(url, false));
  await producer.ready();
  await producer.destroy();
  return {
    name: "bee-queue",
    async enqueue(n, mode) {
      if (mode === "serial") for (let i = 0; i < n; i++) await producer.createJob({}).save();
      else if (mode === "concurrent") {
        await inWindows(n, CONCURRENT_WINDOW, (c) =>
          Promise.all(Array.from({ length: c }, () => producer.createJob({}).save())),
        );
      } else {
        await inWindows(n, BULK, (c) =>
          producer.saveAll(Array.from({ length: c }, () => producer.createJob({}))),
        );
      }
    },
    async process(n, concurrency, onJob) {
      let done = 0;
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const worker = new BeeQueue(queueName, beeSettings(url, true));
      worker.on("succeeded", () => {
        done++;
        onJob?.(done);
        if (done === n) finish();
      });
      worker.process(concurrency, async () => {});
      await finished;
      await worker.close();
    },
    waiting: async () => (await producer.checkHealth()).waiting,
    async close() {
      await producer.destroy();
      await producer.close();
    },
  };
}

/**
 * Sync actors: a small CPU-bound job run by repid's thread pool, by repid inline (an async actor
 * doing the same work on the event loop), by BullMQ's sandboxed processor in worker threads and
 * inline, and by bee-queue inline (it has no sandbox). The rate counts from the `warmup`-th
 * finished job to the last, so thread start-up and module loading are left out.
 */
import { fileURLToPath } from "node:url";
import BeeQueue from "bee-queue";
import { Queue as BullQueue, Worker as BullWorker } from "bullmq";
import { Redis } from "ioredis";
import { Connection, Job, Queue, Worker, enqueueMany, type Hooks } from "repid";
import { RedisMessageBroker } from "repid/redis";
import { CPU_QUEUE, cpuRouter } from "./cpu-actors.js";
import processor from "./cpu-work.mjs";
import { rate } from "./stats.js";
import { BULL_PREFIX, REPID_PREFIX, beeSettings } from "./systems.js";

export type SyncVariant =
  | "repid threads"
  | "repid inline"
  | "bullmq sandboxed threads"
  | "bullmq inline"
  | "bee-queue inline";

export interface SyncOptions {
  readonly url: string;
  readonly jobs: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly concurrency: number;
}

/** Counts finished jobs and times the stretch from the warm-up's end to the last. */
function stopwatch(o: SyncOptions): { tick: () => void; done: Promise<number> } {
  let count = 0;
  let t0 = 0;
  let resolve!: (rate: number) => void;
  const done = new Promise<number>((r) => (resolve = r));
  return {
    tick: () => {
      if (++count === o.warmup) t0 = performance.now();
      if (count === o.jobs) resolve(rate(o.jobs - o.warmup, performance.now() - t0));
    },
    done,
  };
}

export async function syncRate(variant: SyncVariant, o: SyncOptions): Promise<number> {
  const watch = stopwatch(o);
  const args = { rounds: o.rounds };
  if (variant.startsWith("repid")) {
    const connection = new Connection(new RedisMessageBroker(o.url, { prefix: REPID_PREFIX }));
    await connection.connect();
    const queue = new Queue(CPU_QUEUE, { connection });
    await queue.declare();
    await queue.flush();
    const actor = variant === "repid threads" ? "workInThread" : "workInline";
    const jobs = Array.from({ length: o.jobs }, () => new Job(actor, { queue, connection, args }));
    for (let i = 0; i < jobs.length; i += 1000)
      await enqueueMany(jobs.slice(i, i + 1000), { connection });
    const counter: Hooks = {
      async aroundRun(_event, next) {
        const outcome = await next();
        watch.tick();
        return outcome;
      },
    };
    const worker = new Worker({
      connection,
      routers: [cpuRouter],
      concurrency: o.concurrency,
      messagesLimit: o.jobs,
      handleSignals: [],
      hooks: [counter],
    });
    await worker.run();
    await queue.delete();
    await connection.disconnect();
    return watch.done;
  }
  if (variant.startsWith("bullmq")) {
    const name = `${CPU_QUEUE}-bull`;
    const connection = new Redis(o.url, { maxRetriesPerRequest: null });
    const queue = new BullQueue(name, { connection, prefix: BULL_PREFIX });
    const opts = { removeOnComplete: true, removeOnFail: true };
    for (let i = 0; i < o.jobs; i += 1000)
      await queue.addBulk(
        Array.from({ length: Math.min(1000, o.jobs - i) }, () => ({
          name: "work",
          data: args,
          opts,
        })),
      );
    const sandboxed = variant === "bullmq sandboxed threads";
    const file = fileURLToPath(new URL("./cpu-work.mjs", import.meta.url));
    const worker = new BullWorker(name, sandboxed ? file : async (job) => processor(job), {
      connection,
      prefix: BULL_PREFIX,
      concurrency: o.concurrency,
      useWorkerThreads: sandboxed,
    });
    worker.on("completed", watch.tick);
    const figure = await watch.done;
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
    return figure;
  }
  const name = `${CPU_QUEUE}-bq`;
  const producer = new BeeQueue(name, beeSettings(o.url, false));
  for (let i = 0; i < o.jobs; i += 1000)
    await producer.saveAll(
      Array.from({ length: Math.min(1000, o.jobs - i) }, () => producer.createJob(args)),
    );
  const worker = new BeeQueue<{ rounds: number }>(name, beeSettings(o.url, true));
  worker.on("succeeded", watch.tick);
  worker.process(o.concurrency, async (job) => processor(job));
  const figure = await watch.done;
  await worker.close();
  await producer.destroy();
  await producer.close();
  return figure;
}

/**
 * Pickup latency: a producer in this process sends timestamped jobs at a steady rate (one per
 * millisecond) to an idle worker in a child process; the figure is the time from the send until
 * the job started. The first `warmup` jobs are left out (JIT, scripts, connections).
 */
import { fork } from "node:child_process";
import BeeQueue from "bee-queue";
import { Queue as BullQueue } from "bullmq";
import { Redis } from "ioredis";
import { Connection, Job } from "repid";
import { RedisMessageBroker } from "repid/redis";
import { BULL_PREFIX, REPID_PREFIX, beeSettings, makeSystem, type SystemName } from "./systems.js";

const now = (): number => performance.timeOrigin + performance.now();

/** A function that enqueues one timestamped job, and how to close its producer. */
async function sender(
  system: SystemName,
  url: string,
  queue: string,
): Promise<{ send: () => Promise<unknown>; close: () => Promise<void> }> {
  if (system === "repid") {
    const connection = new Connection(new RedisMessageBroker(url, { prefix: REPID_PREFIX }));
    await connection.connect();
    return {
      send: () => new Job("timed", { queue, connection, args: { sentAt: now() } }).enqueue(),
      close: () => connection.disconnect(),
    };
  }
  if (system === "bullmq") {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const q = new BullQueue(queue, { connection, prefix: BULL_PREFIX });
    return {
      send: () => q.add("timed", { sentAt: now() }, { removeOnComplete: true }),
      close: async () => {
        await q.close();
        connection.disconnect();
      },
    };
  }
  const q = new BeeQueue(queue, beeSettings(url, false));
  await q.ready();
  return { send: () => q.createJob({ sentAt: now() }).save(), close: () => q.close() };
}

/** Sorted latencies in ms of `count` jobs sent at 1,000 jobs/s to a worker of `concurrency`. */
export async function pickupLatencies(
  system: SystemName,
  url: string,
  queue: string,
  count: number,
  warmup: number,
  concurrency: number,
): Promise<number[]> {
  // Declares (repid) or empties the queue, and deletes it at the end.
  const owner = await makeSystem(system, url, queue);
  const total = warmup + count;
  const child = fork(
    new URL("./latency-child.ts", import.meta.url).pathname,
    [system, url, queue, String(total), String(concurrency)],
    { execArgv: ["--import", "tsx"] },
  );
  const message = (): Promise<Record<string, unknown>> =>
    new Promise((resolve) => child.once("message", resolve as never));
  await message();
  const { send, close } = await sender(system, url, queue);
  const result = message();
  const start = performance.now();
  let sent = 0;
  const pending: Promise<unknown>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(performance.now() - start) + 1);
    while (sent < due) {
      pending.push(send());
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const { latencies } = (await result) as { latencies: number[] };
  await close();
  await owner.close();
  return latencies.slice(warmup).sort((a, b) => a - b);
}

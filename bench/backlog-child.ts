/**
 * Deep backlog, for one system in a process of its own: throughput of a window of enqueues and of
 * processing at a shallow depth, then the queue filled to `depth`, the same windows there, and the
 * whole backlog processed; this process's RSS and Redis' used_memory growth are sampled every
 * tenth of the depth on the way up and on the way down. Progress goes to stderr, figures over IPC.
 */
import { Redis } from "ioredis";
import { usedMemory } from "./redis-stats.js";
import { rate } from "./stats.js";
import { makeSystem, type SystemName } from "./systems.js";

const [system, url, queue, depthText, shallowText, windowText, concurrencyText, drainText] =
  process.argv.slice(2) as [SystemName, string, string, string, string, string, string, string];
const depth = Number(depthText);
const shallow = Number(shallowText);
const window = Number(windowText);
const concurrency = Number(concurrencyText);
/** "1": process the whole backlog at the end (else the queue is deleted, to save time). */
const drainAll = drainText === "1";
const step = depth / 10;

const admin = new Redis(url);
const s = await makeSystem(system, url, queue);
// A first window warms the process up (JIT, scripts), so both measured windows run warm.
await s.enqueue(window, "bulk");
await s.process(window, concurrency);
const memory0 = await usedMemory(admin);
const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;

export interface Sample {
  readonly phase: "fill" | "drain";
  readonly waiting: number;
  readonly rssMiB: number;
  readonly redisMiB: number;
}
const samples: Sample[] = [];
async function sample(phase: Sample["phase"], waiting: number): Promise<void> {
  const redis = (await usedMemory(admin)) - memory0;
  const entry = { phase, waiting, rssMiB: mib(process.memoryUsage().rss), redisMiB: mib(redis) };
  samples.push(entry);
  process.stderr.write(
    `  ${system} ${phase} at ${waiting.toLocaleString("en")} waiting: RSS ${entry.rssMiB} MiB, Redis +${entry.redisMiB} MiB\n`,
  );
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Rounds of windows at each depth (each a window of enqueues, then one of processing). */
const ROUNDS = 3;

/** Enqueue then process one window at the current depth, `ROUNDS` times: both rates each time. */
async function windows(): Promise<{ enqueue: number[]; process: number[] }> {
  const enqueue: number[] = [];
  const processed: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    enqueue.push(rate(window, await timed(() => s.enqueue(window, "bulk"))));
    processed.push(rate(window, await timed(() => s.process(window, concurrency))));
  }
  return { enqueue, process: processed };
}

await s.enqueue(shallow, "bulk");
const atShallow = await windows();
let waiting = await s.waiting();
const fillStart = performance.now();
const filledFrom = waiting;
while (waiting < depth) {
  const n = Math.min(step - (waiting % step), depth - waiting);
  await s.enqueue(n, "bulk");
  waiting += n;
  if (waiting % step === 0) await sample("fill", waiting);
}
const fill = rate(depth - filledFrom, performance.now() - fillStart);
const bytesPerJob = Math.round(((await usedMemory(admin)) - memory0) / depth);
const atDepth = await windows();
let drain: number | undefined;
if (drainAll) {
  const remaining = await s.waiting();
  const pending: Promise<void>[] = [];
  const drainMs = await timed(() =>
    s.process(remaining, concurrency, (done) => {
      if (done % step === 0) pending.push(sample("drain", remaining - done));
    }),
  );
  await Promise.all(pending);
  drain = rate(remaining, drainMs);
}
await s.close();
admin.disconnect();
process.send!({ atShallow, atDepth, fill, drain, bytesPerJob, samples }, () => process.exit(0));

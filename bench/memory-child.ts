/**
 * Memory under load, in a process of its own (run with --expose-gc): a repid worker (in-memory
 * broker, or Redis when given a URL) processes `count` no-op jobs while a producer in the same
 * process keeps about `ahead` jobs waiting; RSS and heap used after a full GC are sampled every
 * `every` jobs and reported over IPC.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { repidSystem } from "./systems.js";

const [target, queueName, countText, everyText, aheadText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const count = Number(countText);
const every = Number(everyText);
const ahead = Number(aheadText);
const gc = (globalThis as { gc?: () => void }).gc;
const samples: { processed: number; rssMiB: number; heapMiB: number }[] = [];
const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;

const system = await repidSystem(target, queueName);
let done = 0;
let sent = 0;
const producing = (async () => {
  while (sent < count) {
    if (sent - done >= ahead) {
      await sleep(1);
      continue;
    }
    const n = Math.min(1000, count - sent);
    await system.enqueue(n, "bulk");
    sent += n;
  }
})();
const t0 = performance.now();
await system.process(count, 100, (n) => {
  done = n;
  if (n % every !== 0) return;
  gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  samples.push({ processed: n, rssMiB: mib(rss), heapMiB: mib(heapUsed) });
  process.stderr.write(
    `  processed ${n.toLocaleString("en")}: RSS ${mib(rss)} MiB, heap ${mib(heapUsed)} MiB\n`,
  );
});
const ms = performance.now() - t0;
await producing;
await system.close();
process.send!({ samples, ms }, () => process.exit(0));

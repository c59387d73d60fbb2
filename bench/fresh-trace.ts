/**
 * The warm-up curve of a fresh worker process: its CPU per job over each 2,000 jobs, from the
 * first (module loading included) on. Run: npx tsx bench/fresh-trace.ts [repid|bullmq|bee-queue]
 * [jobs] [--dist]. With --dist the worker runs under plain node on dist/ (`npm run build` first).
 * A private redis-server serves the run; nothing else touches it.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startRedis } from "../test/faults/redis-server.js";
import { BEE_PREFIX, BULL_PREFIX, REPID_PREFIX, makeSystem, type SystemName } from "./systems.js";

const [systemArg, countArg] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const system = (systemArg ?? "repid") as SystemName;
const count = Number(countArg ?? 60_000);
const dist = process.argv.includes("--dist");
const prefix = { repid: REPID_PREFIX, bullmq: BULL_PREFIX, "bee-queue": BEE_PREFIX }[system];

const redis = await startRedis();
const producer = await makeSystem(system, redis.url, "trace");
await producer.enqueue(count, "bulk");
const marks = await new Promise<Record<string, number>>((resolve, reject) => {
  const child = fork(
    fileURLToPath(new URL("./cold-child.mjs", import.meta.url)),
    [system, redis.url, "trace", String(count), "10", prefix],
    {
      execArgv: dist ? [] : ["--conditions=repid-source", "--import", "tsx"],
      env: { ...process.env, NODE_OPTIONS: "", COLD_TRACE: "1" },
    },
  );
  child.on("message", (m) => resolve((m as { marks: Record<string, number> }).marks));
  child.on("error", reject);
});
let previous = 0;
const line: string[] = [];
for (const [key, cpuUs] of Object.entries(marks)) {
  if (!key.startsWith("cpu")) continue;
  const n = Number(key.slice(3));
  if (n % 2_000 !== 0) continue;
  line.push(`${n / 1000}k: ${Math.round((cpuUs - previous) / 2_000)}`);
  previous = cpuUs;
}
console.log(`${system}, Node CPU per job (µs) over each 2,000 jobs, c=10:\n${line.join("  ")}`);
await producer.close();
await redis.stop();
process.exit(0);

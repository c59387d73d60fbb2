/**
 * Fresh worker processes, as a deploy or an autoscaler starts them: for each system, `count`
 * no-op jobs wait in a Redis that was started for this run alone (its script cache empty); then a
 * new process loads the system and works them off (bench/cold-child.mjs). Figures: module
 * loading, time from starting the worker to the first job started and to the 1,000th, the rate
 * over the first 20,000 jobs and over the rest (steady), and the child's CPU per job.
 *
 * `dist: true` runs the child under plain node on the package's built dist/ (run `npm run build`
 * first), as an independent harness does; otherwise on the sources through tsx.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startRedis } from "../test/faults/redis-server.js";
import { redisCpuUs } from "./redis-stats.js";
import { BEE_PREFIX, BULL_PREFIX, REPID_PREFIX, makeSystem, type SystemName } from "./systems.js";

export interface ColdFigures {
  /** Importing the system's modules, ms. */
  readonly loadMs: number;
  /** From starting the worker to the first job's start, ms. */
  readonly firstMs: number;
  /** From starting the worker to the 1,000th job's start, ms. */
  readonly thousandthMs: number;
  /** Jobs/s over the first 20,000 (from starting the worker). */
  readonly first20kRate: number;
  /** Jobs/s after the first 20,000, to the end (0 when count is 20,000). */
  readonly steadyRate: number;
  /** Jobs/s over all of them. */
  readonly overallRate: number;
  /** The child's CPU (user + system, module loading included) per job, µs. */
  readonly cpuPerJobUs: number;
  /** The child's CPU per job over jobs 2,000 to 10,000 (a JIT still warming up), µs. */
  readonly warmingCpuPerJobUs: number;
  /** The child's CPU per job after the first 20,000 jobs (NaN when count is 20,000), µs. */
  readonly steadyCpuPerJobUs: number;
  /** Redis's CPU per job while the child ran, µs (this Redis serves nobody else). */
  readonly redisCpuPerJobUs: number;
}

interface ChildReport {
  readonly loadMs: number;
  readonly marks: Record<string, number>;
  readonly totalMs: number;
  readonly cpuUs: number;
}

const CHILD = fileURLToPath(new URL("./cold-child.mjs", import.meta.url));
const PREFIXES: Record<SystemName, string> = {
  repid: REPID_PREFIX,
  bullmq: BULL_PREFIX,
  "bee-queue": BEE_PREFIX,
};

function runChild(
  system: SystemName,
  url: string,
  queue: string,
  count: number,
  concurrency: number,
  dist: boolean,
): Promise<ChildReport> {
  const args = [system, url, queue, String(count), String(concurrency), PREFIXES[system]];
  // Under plain node the child has no loader and resolves `repid` to dist/; otherwise tsx and the
  // repid-source condition give it the sources.
  const execArgv = dist ? [] : ["--conditions=repid-source", "--import", "tsx"];
  const env = { ...process.env, NODE_OPTIONS: "" };
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, args, {
      execArgv,
      env,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let report: ChildReport | undefined;
    child.on("message", (m) => (report = m as ChildReport));
    child.on("error", reject);
    child.on("exit", (code) =>
      report ? resolve(report) : reject(new Error(`cold child (${system}) exited ${code}`)),
    );
  });
}

const perJob = (us: number, jobs: number): number => Math.round((us / jobs) * 10) / 10;

/** One run: a fresh Redis, `count` jobs enqueued in bulk, then a fresh worker process. */
export async function coldRun(
  system: SystemName,
  queue: string,
  count: number,
  concurrency: number,
  dist: boolean,
): Promise<ColdFigures> {
  const redis = await startRedis();
  try {
    const producer = await makeSystem(system, redis.url, queue);
    try {
      await producer.enqueue(count, "bulk");
      const admin = redis.admin();
      const before = await redisCpuUs(admin);
      const r = await runChild(system, redis.url, queue, count, concurrency, dist);
      const redisUs = (await redisCpuUs(admin)) - before;
      const first20k = Math.min(20_000, count);
      const at20k = r.marks.done20000 ?? r.totalMs;
      return {
        loadMs: Math.round(r.loadMs),
        firstMs: Math.round(r.marks[1] ?? NaN),
        thousandthMs: Math.round(r.marks[1000] ?? NaN),
        first20kRate: Math.round((first20k / at20k) * 1000),
        steadyRate:
          count > 20_000 ? Math.round(((count - 20_000) / (r.totalMs - at20k)) * 1000) : 0,
        overallRate: Math.round((count / r.totalMs) * 1000),
        cpuPerJobUs: Math.round((r.cpuUs / count) * 10) / 10,
        warmingCpuPerJobUs: perJob((r.marks.cpu10000 ?? NaN) - (r.marks.cpu2000 ?? NaN), 8_000),
        steadyCpuPerJobUs:
          count > 20_000 ? perJob(r.cpuUs - (r.marks.cpu20000 ?? NaN), count - 20_000) : NaN,
        redisCpuPerJobUs: Math.round((redisUs / count) * 10) / 10,
      };
    } finally {
      await producer.close();
    }
  } finally {
    await redis.stop();
  }
}

/**
 * `npm run bench`: repid against BullMQ and bee-queue on the same Redis, scenario by scenario,
 * the three systems alternating (their order rotates every repeat), each run on a fresh queue;
 * prints a table of medians (with min–max) and repid's ratios to both, and writes every raw
 * figure to bench/results/<timestamp>.json. `--quick` runs the same rows at small sizes.
 * Every key the run creates is under the prefix `bench-<pid>-` and is deleted at the end.
 */
import { execSync, fork } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Redis } from "ioredis";
import { backlog, type BacklogFigures } from "./backlog.js";
import { codegenScenario } from "./codegen.js";
import { coldRun, type ColdFigures } from "./cold.js";
import { makeProject, timeRun, typeCheckFigures } from "./codegen-project.js";
import { pickupLatencies } from "./latency.js";
import { recoveryMs } from "./recovery.js";
import { cpuSample, deleteKeys, perJob, usedMemory } from "./redis-stats.js";
import { percentile, rate, summarize } from "./stats.js";
import { syncRate, type SyncVariant } from "./sync-actors.js";
import { PREFIX, SYSTEMS, makeSystem, type System, type SystemName } from "./systems.js";
import { formatTable, type Row } from "./table.js";

const quick = process.argv.includes("--quick");
/**
 * `--only latency,process` runs just those groups: enqueue, process, fresh, latency, backlog,
 * redis-memory, sync, memory, in-memory, limits, flows, postgres, recovery, codegen, observability, rabbitmq, cluster. The
 * last five are not comparisons of the three systems and run only when named or with `--all` (they
 * would take the full run past its 15 minutes: BullMQ's recovery alone takes a minute).
 */
const onlyArg = process.argv.find((_, i) => process.argv[i - 1] === "--only");
const only = onlyArg ? new Set(onlyArg.split(",")) : undefined;
const all = process.argv.includes("--all");
/**
 * `--dist`: the fresh-worker group runs each worker under plain node on the package's built
 * dist/ (built first), as an independent harness does; otherwise on the sources through tsx.
 */
const dist = process.argv.includes("--dist");
const EXTRA = new Set(["recovery", "codegen", "observability", "rabbitmq", "cluster"]);
// `postgres` (repid on PostgreSQL against pg-boss and graphile-worker) runs by default: it compares
// the Postgres broker with its peers as the Redis rows do.
const wanted = (group: string): boolean => (only ? only.has(group) : all || !EXTRA.has(group));
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const repeats = quick ? 1 : 3;
const N = quick ? 2_000 : 20_000;
const SERIAL_N = quick ? 500 : 5_000;
const LATENCY_N = quick ? 1_000 : 4_000;
/** Jobs sent first and left out of the latency figures: every system starts cold. */
const LATENCY_WARMUP = quick ? 200 : 1_000;
const LATENCY_CONCURRENCY = 10;
const MEMORY_PER_JOB_N = quick ? 10_000 : 50_000;
const IN_MEMORY_N = quick ? 20_000 : 200_000;
/**
 * Deep backlog: windows of bulk enqueue and processing (concurrency 100) at SHALLOW and at DEPTH
 * waiting. BullMQ is left out (its bulk fill runs at a tenth of the others' here: 1M would take
 * minutes), and only repid's backlog is processed to the end; bee-queue's is deleted.
 */
const BACKLOG = {
  depth: quick ? 100_000 : 1_000_000,
  shallow: 10_000,
  window: quick ? 10_000 : 20_000,
  concurrency: 100,
};
const BACKLOG_SYSTEMS: readonly SystemName[] = ["repid", "bee-queue"];
const LOAD = { jobs: quick ? 200_000 : 1_000_000, every: quick ? 20_000 : 100_000, ahead: 10_000 };
const SYNC = {
  jobs: quick ? 1_000 : 3_000,
  warmup: quick ? 100 : 300,
  rounds: 20_000,
  concurrency: 4,
};

const rows: Row[] = [];
const raw: Record<string, unknown> = {};
let run = 0;
const queueName = (): string => `${PREFIX}-q${++run}`;
const admin = new Redis(url);

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** The systems in the order of repeat `r`: rotated, so none is always first or last. */
function rotation<T>(items: readonly T[], r: number): T[] {
  return items.map((_, i) => items[(i + r) % items.length]!);
}

interface Metric {
  readonly scenario: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
}

/**
 * Runs `measure` for every system, rotating their order, `repeats` times, each on a fresh queue;
 * `measure` returns one figure per metric, and each metric becomes a row.
 */
async function compare(
  metrics: readonly Metric[],
  measure: (s: System) => Promise<number[]>,
): Promise<void> {
  const figures = new Map<SystemName, number[][]>(SYSTEMS.map((s) => [s, metrics.map(() => [])]));
  for (let r = 0; r < repeats; r++) {
    for (const name of rotation(SYSTEMS, r)) {
      const system = await makeSystem(name, url, queueName());
      try {
        const values = await measure(system);
        values.forEach((v, i) => figures.get(name)![i]!.push(v));
      } finally {
        await system.close();
      }
    }
  }
  metrics.forEach((m, i) => {
    const row: Row = {
      ...m,
      figures: Object.fromEntries(SYSTEMS.map((s) => [s, summarize(figures.get(s)![i]!)])),
    };
    rows.push(row);
    log(
      `${m.scenario}: ${SYSTEMS.map((s) => `${s} ${figures.get(s)![i]!.join(", ")}`).join(" | ")}`,
    );
  });
}

const cpuMetrics = (scenario: string): Metric[] => [
  { scenario: `  ${scenario}: Redis CPU per job`, unit: "µs", higherIsBetter: false },
  { scenario: `  ${scenario}: Node CPU per job`, unit: "µs", higherIsBetter: false },
  { scenario: `  ${scenario}: Redis commands per job`, unit: "calls", higherIsBetter: false },
];

/** Throughput of `fn` over `n` jobs, and its Redis and Node CPU per job. */
async function withCpu(n: number, fn: () => Promise<void>): Promise<number[]> {
  const a = await cpuSample(admin);
  const ms = await timed(fn);
  const b = await cpuSample(admin);
  const c = perJob(a, b, n);
  return [rate(n, ms), c.redisUs, c.nodeUs, c.calls];
}

async function enqueueGroup(): Promise<void> {
  const modes = [
    ["serial", "enqueue, awaiting each", SERIAL_N],
    ["concurrent", "enqueue, 1,000 concurrent", N],
    ["bulk", "enqueue, bulk of 1,000", N],
  ] as const;
  for (const [mode, scenario, n] of modes) {
    await compare(
      [{ scenario, unit: "jobs/s", higherIsBetter: true }, ...cpuMetrics("enqueue")],
      (s) => withCpu(n, () => s.enqueue(n, mode)),
    );
  }
}

async function processGroup(): Promise<void> {
  for (const concurrency of [1, 10, 100]) {
    const scenario = `process ${N.toLocaleString("en")} no-op, concurrency ${concurrency}`;
    await compare(
      [{ scenario, unit: "jobs/s", higherIsBetter: true }, ...cpuMetrics("process")],
      async (s) => {
        await s.enqueue(N, "bulk");
        return withCpu(N, () => s.process(N, concurrency));
      },
    );
  }
}

/**
 * Fresh worker processes (bench/cold.ts): every run its own Redis and its own worker process, as
 * a deploy or an autoscaler starts one; the first 20,000 jobs and 100,000 jobs at concurrency 10.
 */
async function freshGroup(): Promise<void> {
  if (dist) execSync("npm run build", { stdio: "ignore" });
  const [short, long] = quick ? [20_000, 30_000] : [20_000, 100_000];
  const c = 10;
  const where = dist ? "plain node, dist/" : "tsx, sources";
  const runs = new Map<SystemName, { short: ColdFigures[]; long: ColdFigures[] }>(
    SYSTEMS.map((s) => [s, { short: [], long: [] }]),
  );
  for (let r = 0; r < repeats; r++) {
    for (const s of rotation(SYSTEMS, r)) {
      const a = await coldRun(s, queueName(), short, c, dist);
      const b = await coldRun(s, queueName(), long, c, dist);
      runs.get(s)!.short.push(a);
      runs.get(s)!.long.push(b);
      log(`fresh ${s}: ${JSON.stringify(a)} ${JSON.stringify(b)}`);
    }
  }
  raw.fresh = Object.fromEntries(runs);
  const row = (
    scenario: string,
    unit: string,
    higherIsBetter: boolean,
    pick: (f: { short: ColdFigures[]; long: ColdFigures[] }) => number[],
  ): void => {
    rows.push({
      scenario,
      unit,
      higherIsBetter,
      figures: Object.fromEntries(SYSTEMS.map((s) => [s, summarize(pick(runs.get(s)!))])),
    });
  };
  const both = (f: { short: ColdFigures[]; long: ColdFigures[] }) => [...f.short, ...f.long];
  row(`fresh worker (${where}): importing its modules`, "ms", false, (f) =>
    both(f).map((x) => x.loadMs),
  );
  row(`fresh worker: from start to the 1st job started`, "ms", false, (f) =>
    both(f).map((x) => x.firstMs),
  );
  row(`fresh worker: from start to the 1,000th job started`, "ms", false, (f) =>
    both(f).map((x) => x.thousandthMs),
  );
  row(`fresh worker, c=${c}: ${short.toLocaleString("en")} jobs`, "jobs/s", true, (f) =>
    f.short.map((x) => x.overallRate),
  );
  row(`fresh worker, c=${c}: ${long.toLocaleString("en")} jobs`, "jobs/s", true, (f) =>
    f.long.map((x) => x.overallRate),
  );
  row(`fresh worker, c=${c}: after the first 20,000 (steady)`, "jobs/s", true, (f) =>
    f.long.map((x) => x.steadyRate),
  );
  row(`  fresh worker: Node CPU per job, jobs 2,000–10,000`, "µs", false, (f) =>
    both(f).map((x) => x.warmingCpuPerJobUs),
  );
  row(`  fresh worker: Node CPU per job after 20,000`, "µs", false, (f) =>
    f.long.map((x) => x.steadyCpuPerJobUs),
  );
  row(`  fresh worker: Redis CPU per job (${short.toLocaleString("en")})`, "µs", false, (f) =>
    f.short.map((x) => x.redisCpuPerJobUs),
  );
}

async function latencyGroup(): Promise<void> {
  const lat = new Map<SystemName, number[][]>(SYSTEMS.map((s) => [s, []]));
  for (let r = 0; r < repeats; r++) {
    for (const s of rotation(SYSTEMS, r)) {
      const l = await pickupLatencies(
        s,
        url,
        queueName(),
        LATENCY_N,
        LATENCY_WARMUP,
        LATENCY_CONCURRENCY,
      );
      lat.get(s)!.push(l);
      log(`latency ${s}: p50 ${round2(percentile(l, 50))} ms, p99 ${round2(percentile(l, 99))} ms`);
    }
  }
  for (const p of [50, 99]) {
    rows.push({
      scenario: `pickup latency p${p}, 1,000 jobs/s, concurrency ${LATENCY_CONCURRENCY}`,
      unit: "ms",
      figures: Object.fromEntries(
        SYSTEMS.map((s) => [s, summarize(lat.get(s)!.map((l) => round2(percentile(l, p))))]),
      ),
      higherIsBetter: false,
    });
  }
}

async function backlogGroup(): Promise<void> {
  const results: Partial<Record<SystemName, BacklogFigures>> = {};
  for (const s of BACKLOG_SYSTEMS) {
    log(`deep backlog, ${s}: ${BACKLOG.depth.toLocaleString("en")} jobs`);
    results[s] = await backlog(s, url, queueName(), { ...BACKLOG, drain: s === "repid" });
  }
  raw.backlog = results;
  const depth = short(BACKLOG.depth);
  const shallow = short(BACKLOG.shallow);
  const win = short(BACKLOG.window);
  const row = (
    scenario: string,
    unit: string,
    higherIsBetter: boolean,
    pick: (f: BacklogFigures) => number | number[] | undefined,
  ): void => {
    const figures: Row["figures"] = {};
    for (const [s, f] of Object.entries(results) as [SystemName, BacklogFigures][]) {
      const v = pick(f);
      if (v !== undefined) figures[s] = summarize(typeof v === "number" ? [v] : v);
    }
    rows.push({ scenario, unit, higherIsBetter, figures });
  };
  const c = BACKLOG.concurrency;
  const median = (xs: number[]): number => summarize(xs).median;
  row(
    `backlog: bulk enqueue of ${win} at ${shallow} waiting`,
    "jobs/s",
    true,
    (f) => f.atShallow.enqueue,
  );
  row(
    `backlog: bulk enqueue of ${win} at ${depth} waiting`,
    "jobs/s",
    true,
    (f) => f.atDepth.enqueue,
  );
  row(`backlog: enqueue at ${depth} / at ${shallow} (medians)`, "ratio", true, (f) =>
    round2(median(f.atDepth.enqueue) / median(f.atShallow.enqueue)),
  );
  row(
    `backlog: process ${win} (c=${c}) at ${shallow} waiting`,
    "jobs/s",
    true,
    (f) => f.atShallow.process,
  );
  row(
    `backlog: process ${win} (c=${c}) at ${depth} waiting`,
    "jobs/s",
    true,
    (f) => f.atDepth.process,
  );
  row(`backlog: process at ${depth} / at ${shallow} (medians)`, "ratio", true, (f) =>
    round2(median(f.atDepth.process) / median(f.atShallow.process)),
  );
  row(`backlog: bulk fill up to ${depth}`, "jobs/s", true, (f) => f.fill);
  row(`backlog: process all ${depth} (c=${c})`, "jobs/s", true, (f) => f.drain);
  row(`backlog: Redis memory per job at ${depth} waiting`, "bytes", false, (f) => f.bytesPerJob);
  row(`backlog: process RSS, highest sample`, "MiB", false, (f) =>
    Math.max(...f.samples.map((x) => x.rssMiB)),
  );
  row(`backlog: Redis used_memory growth, highest sample`, "MiB", false, (f) =>
    Math.max(...f.samples.map((x) => x.redisMiB)),
  );
}

async function redisMemoryGroup(): Promise<void> {
  await compare(
    [{ scenario: "Redis memory per waiting no-op job", unit: "bytes", higherIsBetter: false }],
    async (s) => {
      const before = await usedMemory(admin);
      await s.enqueue(MEMORY_PER_JOB_N, "bulk");
      return [Math.round(((await usedMemory(admin)) - before) / MEMORY_PER_JOB_N)];
    },
  );
}

async function syncGroup(): Promise<void> {
  const variants: SyncVariant[] = [
    "repid threads",
    "bullmq sandboxed threads",
    "repid inline",
    "bullmq inline",
    "bee-queue inline",
  ];
  const figures = new Map<SyncVariant, number[]>(variants.map((v) => [v, []]));
  for (let r = 0; r < repeats; r++) {
    for (const v of rotation(variants, r))
      figures.get(v)!.push(await syncRate(v, { url, ...SYNC }));
  }
  log(`sync actors: ${variants.map((v) => `${v} ${figures.get(v)!.join(", ")}`).join(" | ")}`);
  const get = (v: SyncVariant) => summarize(figures.get(v)!);
  const what = `${SYNC.rounds / 1000}k FNV rounds, concurrency ${SYNC.concurrency}`;
  rows.push({
    scenario: `sync actor (${what}) in worker threads`,
    unit: "jobs/s",
    higherIsBetter: true,
    figures: { repid: get("repid threads"), bullmq: get("bullmq sandboxed threads") },
  });
  rows.push({
    scenario: `the same work inline (async handler)`,
    unit: "jobs/s",
    higherIsBetter: true,
    figures: {
      repid: get("repid inline"),
      bullmq: get("bullmq inline"),
      "bee-queue": get("bee-queue inline"),
    },
  });
  rows.push({
    scenario: `  threads / inline, each system`,
    unit: "ratio",
    higherIsBetter: true,
    figures: {
      repid: summarize([round2(get("repid threads").median / get("repid inline").median)]),
      bullmq: summarize([
        round2(get("bullmq sandboxed threads").median / get("bullmq inline").median),
      ]),
    },
  });
}

/** Runs a bench script in a child process and resolves with the message it sends. */
function child<T>(script: string, args: string[], execArgv: string[] = []): Promise<T> {
  const c = fork(new URL(script, import.meta.url).pathname, args, {
    execArgv: ["--import", "tsx", ...execArgv],
  });
  return new Promise((resolve, reject) => {
    c.once("message", (m) => resolve(m as T));
    c.once("exit", (code) => reject(new Error(`${script} exited (${code})`)));
  });
}

async function memoryGroup(): Promise<void> {
  log(`memory under load: ${LOAD.jobs.toLocaleString("en")} jobs, in-memory broker`);
  const { samples } = await child<{
    samples: { processed: number; rssMiB: number; heapMiB: number }[];
  }>(
    "./memory-child.ts",
    ["memory", queueName(), String(LOAD.jobs), String(LOAD.every), String(LOAD.ahead)],
    ["--expose-gc"],
  );
  raw.memoryUnderLoad = samples;
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  for (const [what, pick] of [
    ["RSS", (s: typeof first) => s.rssMiB],
    ["heap used after GC", (s: typeof first) => s.heapMiB],
  ] as const) {
    for (const s of [first, last])
      rows.push({
        scenario: `in-memory worker ${what} at ${short(s.processed)} processed`,
        unit: "MiB",
        higherIsBetter: false,
        figures: { repid: summarize([pick(s)]) },
      });
  }
}

async function inMemoryGroup(): Promise<void> {
  const figures: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const { ms } = await child<{ ms: number }>("./in-memory-child.ts", [String(IN_MEMORY_N)]);
    figures.push(rate(IN_MEMORY_N, ms));
  }
  rows.push({
    scenario: "in-memory broker, process no-op",
    unit: "jobs/s",
    higherIsBetter: true,
    figures: { repid: summarize(figures) },
  });
}

async function recoveryGroup(): Promise<void> {
  // One run each: BullMQ's figure alone is 30-60 s (its lock, then its stalled-jobs check).
  const repid = await recoveryMs("repid", url, `${queueName()}-recovery`);
  const bullmq = await recoveryMs("bullmq", url, `${queueName()}-recovery`);
  rows.push({
    scenario: "SIGKILLed worker: its 10 jobs running again",
    unit: "ms",
    higherIsBetter: false,
    figures: { repid: summarize([Math.round(repid)]), bullmq: summarize([Math.round(bullmq)]) },
  });
}

async function codegenGroup(): Promise<void> {
  // Generation time, then what the generated registry costs the compiler with a consumer.
  for (const files of quick ? [50] : [100, 500]) {
    const gen = await codegenScenario(files, repeats);
    rows.push({
      scenario: `repid-gen over ${gen.files} actor files`,
      unit: "ms",
      higherIsBetter: false,
      figures: { repid: summarize(gen.ms) },
    });
    const dir = makeProject(files);
    try {
      timeRun(dir);
      const tc = typeCheckFigures(dir, files);
      const figures: [string, string, number][] = [
        ["instantiations", "count", tc.instantiations],
        ["instantiations per actor", "count", Math.round(tc.instantiations / files)],
        ["memory", "MiB", tc.memoryMiB],
        ["check time", "s", tc.checkSeconds],
      ];
      for (const [what, unit, value] of figures)
        rows.push({
          scenario: `tsc of a ${files}-actor registry + consumer: ${what}`,
          unit,
          higherIsBetter: false,
          figures: { repid: summarize([value]) },
        });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** 20000 → "20k", 1000000 → "1M". */
function short(n: number): string {
  return n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6}M` : `${n / 1000}k`;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The samples taken along the way, for the record under the table. */
function samplesText(): string {
  const lines: string[] = [];
  const backlogs = (raw.backlog ?? {}) as Partial<Record<SystemName, BacklogFigures>>;
  if (Object.keys(backlogs).length > 0)
    lines.push(
      "deep backlog: BullMQ left out (its bulk fill is the slowest by far); bee-queue's backlog is deleted, not processed",
    );
  for (const [s, f] of Object.entries(backlogs)) {
    lines.push(`deep backlog, ${s} (waiting: process RSS MiB / Redis used_memory growth MiB):`);
    for (const phase of ["fill", "drain"] as const) {
      const ps = f.samples.filter((x) => x.phase === phase);
      if (ps.length > 0)
        lines.push(
          `  ${phase}: ${ps.map((x) => `${short(x.waiting)}: ${x.rssMiB}/${x.redisMiB}`).join(", ")}`,
        );
    }
  }
  const load = raw.memoryUnderLoad as { processed: number; rssMiB: number; heapMiB: number }[];
  if (load) {
    lines.push("in-memory worker under load (processed: RSS MiB / heap after GC MiB):");
    lines.push(
      `  ${load.map((x) => `${short(x.processed)}: ${x.rssMiB}/${x.heapMiB}`).join(", ")}`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const started = performance.now();
  const load0 = loadavg();
  log(
    `bench against ${url} (${(await admin.info("server")).match(/redis_version:(\S+)/)?.[1]}), ${quick ? "quick" : "full"} mode, keys under ${PREFIX}-*, load ${load0.map((x) => x.toFixed(2)).join(" ")}`,
  );
  const groups: [string, () => Promise<void>][] = [
    ["enqueue", enqueueGroup],
    ["process", processGroup],
    ["fresh", freshGroup],
    ["latency", latencyGroup],
    ["backlog", backlogGroup],
    ["redis-memory", redisMemoryGroup],
    ["sync", syncGroup],
    ["memory", memoryGroup],
    ["in-memory", inMemoryGroup],
    ["recovery", recoveryGroup],
    ["codegen", codegenGroup],
  ];
  try {
    for (const [group, fn] of groups) {
      if (!wanted(group)) continue;
      const t0 = performance.now();
      await fn();
      log(`(${group}: ${Math.round((performance.now() - t0) / 1000)} s)`);
    }
  } finally {
    log(`deleted ${await deleteKeys(admin, `${PREFIX}-*`)} leftover keys`);
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  const load1 = loadavg();
  console.log(formatTable(rows));
  console.log(
    `Redis: ${url}. Redis CPU, commands and memory per job are server-wide INFO deltas: on a shared Redis, other clients count too.`,
  );
  const samples = samplesText();
  if (samples) console.log(samples);
  console.log(
    `${quick ? "quick" : "full"} run, ${repeats} repeat(s), ${seconds} s; load average (1/5/15 min) ${load0.map((x) => x.toFixed(2)).join("/")} at the start, ${load1.map((x) => x.toFixed(2)).join("/")} at the end`,
  );
  // Groups with tables of their own, each in its own process: flow-control limits (keyed against
  // none, and a small key behind a big one), hooks' overhead (metrics and
  // tracing against none), the RabbitMQ broker next to the Redis broker, and scaling over worker
  // processes on one Redis and on the Redis Cluster at REDIS_CLUSTER_URL.
  for (const [group, script] of [
    ["limits", "./limits.ts"],
    ["flows", "./flows.ts"],
    ["observability", "./observability.ts"],
    ["rabbitmq", "./rabbitmq.ts"],
    ["postgres", "./postgres.ts"],
    ["cluster", "./cluster.ts"],
  ] as const) {
    if (!wanted(group)) continue;
    log(`\n${group}:`);
    await new Promise<void>((resolve) => {
      const c = fork(new URL(script, import.meta.url).pathname, quick ? ["--quick"] : [], {
        execArgv: ["--import", "tsx"],
        stdio: "inherit",
      });
      c.on("exit", () => resolve());
    });
  }
  admin.disconnect();
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  const file = new URL(
    `./results/${new Date().toISOString().replaceAll(":", "-")}.json`,
    import.meta.url,
  );
  writeFileSync(
    file,
    JSON.stringify(
      { quick, url, seconds, load: { start: load0, end: load1 }, rows, ...raw },
      null,
      2,
    ),
  );
  log(`raw figures: ${file.pathname}; total ${Math.round((performance.now() - started) / 1000)} s`);
}

await main();
process.exit(0);

/**
 * `npm run bench`: repid against BullMQ on the same Redis, scenario by scenario, alternating
 * the two systems and repeating; prints a table of medians (with min–max) and their ratio, and
 * writes every raw figure to bench/results/<timestamp>.json. `--quick` runs a small smoke set.
 */
import { fork } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { Redis } from "ioredis";
import { codegenScenario } from "./codegen.js";
import { makeProject, timeRun, typeCheckFigures } from "./codegen-project.js";
import { recoveryMs } from "./recovery.js";
import { percentile, rate, summarize, type Summary } from "./stats.js";
import { bullmqSystem, repidSystem, type System } from "./systems.js";

const quick = process.argv.includes("--quick");
/**
 * `--only latency,process` runs just those groups: enqueue, process, latency, recovery, in-memory,
 * memory, codegen, observability, rabbitmq, cluster (the last three run in a full run, or when
 * named).
 */
const onlyArg = process.argv.find((a, i) => process.argv[i - 1] === "--only");
const only = onlyArg ? new Set(onlyArg.split(",")) : undefined;
const wanted = (group: string): boolean => !only || only.has(group);
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const repeats = quick ? 1 : 3;
const N = quick ? 2_000 : 20_000;
const SERIAL_N = quick ? 500 : 5_000;
const LATENCY_N = quick ? 500 : 5_000;
/** Jobs sent first and left out of the latency figures: both systems start cold (JIT, scripts). */
const LATENCY_WARMUP = quick ? 200 : 1_000;
const MEMORY_N = quick ? 20_000 : 100_000;
const MEMORY_N_IN_MEMORY = quick ? 20_000 : 200_000;

interface Row {
  readonly scenario: string;
  readonly unit: string;
  readonly repid: Summary;
  readonly bullmq?: Summary;
  /** true when a higher figure is better (throughput), false for latency/memory. */
  readonly higherIsBetter: boolean;
}

const rows: Row[] = [];
let run = 0;
const queueName = (): string => `bench-${process.pid}-${++run}`;

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

type Factory = (queue: string) => Promise<System>;
const systems: [string, Factory][] = [
  ["repid", (q) => repidSystem(url, q)],
  ["bullmq", (q) => bullmqSystem(url, q)],
];

/** Runs `measure` for both systems, alternating, `repeats` times; each run on a fresh queue. */
async function compare(
  scenario: string,
  unit: string,
  measure: (s: System) => Promise<number>,
): Promise<void> {
  const figures: Record<string, number[]> = { repid: [], bullmq: [] };
  for (let r = 0; r < repeats; r++) {
    const order = r % 2 === 0 ? systems : [...systems].reverse();
    for (const [name, make] of order) {
      const system = await make(queueName());
      try {
        figures[name]!.push(await measure(system));
      } finally {
        await system.close();
      }
    }
  }
  rows.push({
    scenario,
    unit,
    repid: summarize(figures.repid!),
    bullmq: summarize(figures.bullmq!),
    higherIsBetter: true,
  });
  log(`${scenario}: repid ${figures.repid!.join(", ")} | bullmq ${figures.bullmq!.join(", ")}`);
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function latency(system: "repid" | "bullmq"): Promise<number[]> {
  const queue = queueName();
  const producer =
    system === "repid" ? await repidSystem(url, queue) : await bullmqSystem(url, queue);
  const total = LATENCY_WARMUP + LATENCY_N;
  const child = fork(
    new URL("./latency-child.ts", import.meta.url).pathname,
    [system, url, queue, String(total)],
    {
      execArgv: ["--import", "tsx"],
    },
  );
  const message = (): Promise<Record<string, unknown>> =>
    new Promise((resolve) => child.once("message", resolve as never));
  await message();
  const send = await latencySender(system, producer, queue);
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
  await producer.close();
  return latencies.slice(LATENCY_WARMUP).sort((a, b) => a - b);
}

async function latencySender(
  system: "repid" | "bullmq",
  _s: System,
  queue: string,
): Promise<() => Promise<unknown>> {
  const now = (): number => performance.timeOrigin + performance.now();
  if (system === "repid") {
    const { Connection, Job } = await import("repid");
    const { RedisMessageBroker } = await import("repid/redis");
    const connection = new Connection(new RedisMessageBroker(url, { prefix: "repid-bench" }));
    await connection.connect();
    return () => new Job("timed", { queue, connection, args: { sentAt: now() } }).enqueue();
  }
  const { Queue } = await import("bullmq");
  const q = new Queue(queue, {
    connection: new Redis(url, { maxRetriesPerRequest: null }),
    prefix: "bull-bench",
  });
  return () => q.add("timed", { sentAt: now() }, { removeOnComplete: true });
}

async function memory(): Promise<{
  first: number;
  last: number;
  samples: { rss: number; heapUsed: number }[];
}> {
  const queue = queueName();
  const producer = await repidSystem(url, queue);
  await producer.enqueue(MEMORY_N, "bulk");
  const child = fork(
    new URL("./memory-child.ts", import.meta.url).pathname,
    [url, queue, String(MEMORY_N)],
    {
      execArgv: ["--import", "tsx", "--expose-gc"],
    },
  );
  const { samples } = (await new Promise((resolve) => child.once("message", resolve as never))) as {
    samples: { rss: number; heapUsed: number }[];
  };
  await producer.close();
  return { first: samples[0]!.rss, last: samples[samples.length - 1]!.rss, samples };
}

async function main(): Promise<void> {
  const redis = new Redis(url);
  log(
    `bench against ${url} (${(await redis.info("server")).match(/redis_version:(\S+)/)?.[1]}), ${quick ? "quick" : "full"} mode`,
  );
  redis.disconnect();

  if (wanted("enqueue"))
    await compare("enqueue, awaiting each", "jobs/s", async (s) =>
      rate(SERIAL_N, await timed(() => s.enqueue(SERIAL_N, "serial"))),
    );
  if (wanted("enqueue"))
    await compare("enqueue, concurrent", "jobs/s", async (s) =>
      rate(N, await timed(() => s.enqueue(N, "concurrent"))),
    );
  if (wanted("enqueue"))
    await compare("enqueue, bulk", "jobs/s", async (s) =>
      rate(N, await timed(() => s.enqueue(N, "bulk"))),
    );
  for (const concurrency of wanted("process") ? [1, 10, 100] : []) {
    const n = concurrency === 1 ? Math.min(N, quick ? 1000 : 5000) : N;
    await compare(`process no-op, concurrency ${concurrency}`, "jobs/s", async (s) => {
      await s.enqueue(n, "bulk");
      return rate(n, await timed(() => s.process(n, concurrency)));
    });
  }

  const lat: Record<string, number[][]> = { repid: [], bullmq: [] };
  for (let r = 0; r < repeats && wanted("latency"); r++) {
    for (const system of ["repid", "bullmq"] as const) lat[system]!.push(await latency(system));
  }
  for (const p of wanted("latency") ? [50, 95, 99] : []) {
    rows.push({
      scenario: `latency p${p} at 1,000 jobs/s`,
      unit: "ms",
      repid: summarize(lat.repid!.map((l) => round2(percentile(l, p)))),
      bullmq: summarize(lat.bullmq!.map((l) => round2(percentile(l, p)))),
      higherIsBetter: false,
    });
  }

  const mem: number[] = [];
  for (let r = 0; r < repeats && wanted("in-memory"); r++) {
    const child = fork(
      new URL("./in-memory-child.ts", import.meta.url).pathname,
      [String(MEMORY_N_IN_MEMORY)],
      {
        execArgv: ["--import", "tsx"],
      },
    );
    const { ms } = (await new Promise((resolve) => child.once("message", resolve as never))) as {
      ms: number;
    };
    mem.push(rate(MEMORY_N_IN_MEMORY, ms));
  }
  if (mem.length > 0) {
    rows.push({
      scenario: "in-memory broker, process no-op",
      unit: "jobs/s",
      repid: summarize(mem),
      higherIsBetter: true,
    });
  }

  // One run each: BullMQ's figure alone is 30-60 s (its lock, then its stalled-jobs check).
  if (wanted("recovery")) {
    const repid = await recoveryMs("repid", url, `${queueName()}-recovery`);
    const bullmq = await recoveryMs("bullmq", url, `${queueName()}-recovery`);
    rows.push({
      scenario: "SIGKILLed worker: its 10 jobs running again",
      unit: "ms",
      repid: summarize([Math.round(repid)]),
      bullmq: summarize([Math.round(bullmq)]),
      higherIsBetter: false,
    });
  }

  const rss = wanted("memory") ? await memory() : undefined;
  if (rss) {
    rows.push({
      scenario: `worker RSS after first 10k`,
      unit: "MiB",
      repid: summarize([mib(rss.first)]),
      higherIsBetter: false,
    });
    rows.push({
      scenario: `worker RSS after ${MEMORY_N / 1000}k`,
      unit: "MiB",
      repid: summarize([mib(rss.last)]),
      higherIsBetter: false,
    });
  }

  if (wanted("codegen")) {
    // Generation time, then what the generated registry costs the compiler with a consumer.
    for (const files of quick ? [50] : [100, 500]) {
      const gen = await codegenScenario(files, repeats);
      rows.push({
        scenario: `repid-gen over ${gen.files} actor files`,
        unit: "ms",
        repid: summarize(gen.ms),
        higherIsBetter: false,
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
            repid: summarize([value]),
            higherIsBetter: false,
          });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  printTable();
  // Groups with tables of their own, each in its own process: hooks' overhead (metrics and
  // tracing against none), and the RabbitMQ broker next to the Redis broker.
  for (const [group, script] of [
    ["observability", "./observability.ts"],
    ["rabbitmq", "./rabbitmq.ts"],
    ["cluster", "./cluster.ts"],
  ] as const) {
    if (!only?.has(group) && !(only === undefined && !quick)) continue;
    log(`\n${group}:`);
    await new Promise<void>((resolve) => {
      const child = fork(new URL(script, import.meta.url).pathname, quick ? ["--quick"] : [], {
        execArgv: ["--import", "tsx"],
        stdio: "inherit",
      });
      child.on("exit", () => resolve());
    });
  }
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  const file = new URL(
    `./results/${new Date().toISOString().replaceAll(":", "-")}.json`,
    import.meta.url,
  );
  writeFileSync(file, JSON.stringify({ quick, url, rows, memorySamples: rss?.samples }, null, 2));
  log(`raw figures: ${file.pathname}`);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function mib(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}

function printTable(): void {
  const fmt = (s: Summary | undefined): string =>
    s
      ? `${s.median.toLocaleString("en")} (${s.min.toLocaleString("en")}–${s.max.toLocaleString("en")})`
      : "";
  const lines = rows.map((r) => {
    const ratio = r.bullmq
      ? r.higherIsBetter
        ? r.repid.median / r.bullmq.median
        : r.bullmq.median / r.repid.median
      : undefined;
    return [
      r.scenario,
      r.unit,
      fmt(r.repid),
      fmt(r.bullmq),
      ratio === undefined ? "" : `${ratio.toFixed(2)}x`,
    ];
  });
  const head = [
    "scenario",
    "unit",
    "repid median (min–max)",
    "bullmq median (min–max)",
    "advantage",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(row(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const l of lines) console.log(row(l));
  console.log(
    "advantage: how many times better repid is (throughput ratio, or BullMQ's latency over repid's)",
  );
}

await main();
process.exit(0);

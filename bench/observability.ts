/**
 * What observability costs: processing throughput of no-op jobs at concurrency 100, on the
 * in-memory broker and on Redis, without hooks, with `repid/metrics`, and with metrics and
 * `repid/otel` under a registered OpenTelemetry SDK (spans really created, ended and handed to a
 * span processor that drops them; AsyncLocalStorage context; W3C propagation in the headers).
 *
 * Measured in pairs, each pair in a process of its own, alternating its two variants round after
 * round so that a busy machine slows both alike: "none" against "metrics", and "sdk only" (the
 * SDK registered and its context manager in use, no repid hooks) against "metrics+otel". An SDK's
 * context manager, once used, slows every promise of its process (an AsyncLocalStorage on Node
 * 20), whoever uses it; that tax is the application's choice of SDK, so the cost of repid's
 * hooks is "metrics+otel" against "sdk only", and the whole cost is that times "sdk only"
 * against "none" (measured across processes, so noisier). Rates are wall-clock jobs/s and jobs
 * per second of the process's CPU time (steadier on a shared machine).
 *
 *   NODE_OPTIONS=--conditions=repid-source npx tsx bench/observability.ts [--quick] [--only memory|redis]
 *   (SAMPLED=0.1 in the environment records one trace in ten instead of all)
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Connection, InMemoryMessageBroker, Job, Queue, Worker, enqueueMany } from "repid";
import type { Hooks, MessageBroker } from "repid";
import { summarize } from "./stats.js";

type BrokerKind = "memory" | "redis";
type Pair = "plain" | "sdk";
const NAMES: Record<Pair, readonly [string, string]> = {
  plain: ["none", "metrics"],
  sdk: ["sdk only", "metrics+otel"],
};
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Wall-clock rate and CPU rate (jobs per second of this process's CPU time). */
interface Rates {
  readonly wall: number;
  readonly cpu: number;
}

/**
 * Registers an SDK tracer provider, context manager and propagator, as an application would, and
 * uses the context manager once (its cost starts at its first use, whoever uses it).
 */
async function installOtel() {
  const { context, propagation, trace } = await import("@opentelemetry/api");
  const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
  const { W3CTraceContextPropagator } = await import("@opentelemetry/core");
  const { BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler } =
    await import("@opentelemetry/sdk-trace-base");
  const drop = {
    onStart: () => {},
    onEnd: () => {},
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  // SAMPLED=0.1 records one trace in ten, as production setups often do (unsampled spans cost
  // next to nothing); by default every span is recorded.
  const ratio = Number(process.env["SAMPLED"] ?? 1);
  const sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler, spanProcessors: [drop] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.with(context.active(), () => {});
  return (await import("repid/otel")).openTelemetry();
}

async function makeBroker(kind: BrokerKind): Promise<MessageBroker> {
  if (kind === "memory") return new InMemoryMessageBroker();
  const { RedisMessageBroker } = await import("repid/redis");
  return new RedisMessageBroker(url, { prefix: "repid-bench-obs" });
}

/**
 * A broker (its own, so that the variants share no connection), connection and queue of one
 * variant; `round(n)` enqueues n jobs and times processing them.
 */
async function variant(kind: BrokerKind, hooks: (broker: MessageBroker) => Hooks[]) {
  const broker = await makeBroker(kind);
  const connection = new Connection(broker, { hooks: hooks(broker) });
  const queueName = `bench-obs-${randomUUID()}`;
  const queue = new Queue(queueName, { connection });
  await queue.declare();
  const job = new Job("noop", { queue, connection });
  return {
    async round(n: number): Promise<Rates> {
      for (let sent = 0; sent < n; sent += 1000) {
        const batch = Array.from({ length: Math.min(1000, n - sent) }, () => job);
        await enqueueMany(batch, { connection });
      }
      const worker = new Worker({
        connection,
        concurrency: 100,
        messagesLimit: n,
        handleSignals: [],
      });
      worker.actor({ queue: queueName }, async function noop() {});
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await worker.run();
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return {
        wall: Math.round((n / ms) * 1000),
        cpu: Math.round((n / (cpu.user + cpu.system)) * 1e6),
      };
    },
    async close() {
      await queue.delete();
      await connection.disconnect();
    },
  };
}

/** One process: the pair's two variants alternate for `rounds` rounds (after a warm-up each). */
async function measurePair(kind: BrokerKind, pair: Pair, n: number, rounds: number) {
  const { prometheusMetrics } = await import("repid/metrics");
  const tracing = pair === "sdk" ? await installOtel() : undefined;
  const variants = [
    await variant(kind, () => []),
    await variant(kind, (broker) => [
      prometheusMetrics({ broker }).hooks,
      ...(tracing ? [tracing.hooks] : []),
    ]),
  ] as const;
  const rates: [Rates[], Rates[]] = [[], []];
  try {
    for (const v of variants) await v.round(Math.min(2_000, n));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) rates[i as 0 | 1].push(await variants[i as 0 | 1].round(n));
    }
  } finally {
    for (const v of variants) await v.close();
  }
  return rates;
}

function inChild(kind: BrokerKind, pair: Pair, n: number, rounds: number) {
  return new Promise<[Rates[], Rates[]]>((resolve, reject) => {
    const args = ["--child", kind, pair, String(n), String(rounds)];
    const child = fork(new URL(import.meta.url).pathname, args, { execArgv: ["--import", "tsx"] });
    child.once("message", (m) => resolve(m as [Rates[], Rates[]]));
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`${kind}/${pair} exited with ${code}`));
    });
  });
}

const median = (xs: readonly number[]): number => summarize(xs).median;
const pct = (x: number): string => `${(x * 100).toFixed(0)}%`.padStart(5);

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const only = process.argv.find((_, i) => process.argv[i - 1] === "--only");
  const kinds = (only?.split(",") ?? ["memory", "redis"]) as BrokerKind[];
  const rounds = quick ? 2 : 6;
  const sizes: Record<BrokerKind, number> = {
    memory: quick ? 5_000 : 20_000,
    redis: quick ? 2_000 : 5_000,
  };
  const lines = [
    `processing no-op jobs at concurrency 100: medians of ${rounds} rounds (in-memory ${sizes.memory} jobs a round, Redis ${sizes.redis})`,
    "broker  variant        wall jobs/s   CPU jobs/s   ratio (wall, CPU; per-round medians)",
  ];
  for (const kind of kinds) {
    const cpuMedian: Record<string, number> = {};
    for (const pair of ["plain", "sdk"] as const) {
      const [base, hooked] = await inChild(kind, pair, sizes[kind], rounds);
      const [baseName, hookedName] = NAMES[pair];
      const ratio = (of: keyof Rates) => median(hooked.map((h, i) => h[of] / base[i]![of]));
      cpuMedian[baseName] = median(base.map((x) => x.cpu));
      for (const [name, rates, note] of [
        [baseName, base, ""],
        [hookedName, hooked, `${pct(ratio("wall"))} ${pct(ratio("cpu"))} of ${baseName}`],
      ] as const) {
        lines.push(
          `${kind.padEnd(7)} ${name.padEnd(13)} ${String(Math.round(median(rates.map((x) => x.wall)))).padStart(9)} ${String(Math.round(median(rates.map((x) => x.cpu)))).padStart(12)}   ${note}`,
        );
      }
    }
    lines.push(
      `${kind.padEnd(7)} (sdk only against none, across processes: CPU ${pct(cpuMedian["sdk only"]! / cpuMedian["none"]!)})`,
    );
  }
  console.log(lines.join("\n"));
}

if (process.argv[2] === "--child") {
  const [, , , kind, pair, n, rounds] = process.argv;
  const rates = await measurePair(kind as BrokerKind, pair as Pair, Number(n), Number(rounds));
  // Run by hand (to profile one pair), it prints its figures.
  if (process.send) process.send(rates, () => process.exit(0));
  else console.log(JSON.stringify(rates));
} else {
  await main();
}

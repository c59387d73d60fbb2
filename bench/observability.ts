/**
 * What observability costs: processing throughput of no-op jobs at concurrency 100, on the
 * in-memory broker and on Redis, without hooks, with `repid/metrics`, and with metrics and
 * `repid/otel` under a registered OpenTelemetry SDK (spans really created, ended and handed to a
 * span processor that drops them; AsyncLocalStorage context; W3C propagation in the headers).
 *
 * Each run is a process of its own (an SDK's context manager, once enabled, slows every promise
 * of its process, so it must not leak into the runs without it), the variants alternate, and the
 * medians are printed with the ratio to the run without hooks.
 *
 *   NODE_OPTIONS=--conditions=repid-source npx tsx bench/observability.ts [--quick] [--only memory|redis]
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Connection, InMemoryMessageBroker, Job, Queue, Worker, enqueueMany } from "repid";
import type { Hooks, MessageBroker } from "repid";
import { summarize } from "./stats.js";

type Variant = "none" | "metrics" | "sdk only" | "metrics+otel";
type BrokerKind = "memory" | "redis";
/** "sdk only": the OpenTelemetry SDK registered and its context manager in use, no repid hooks. */
const VARIANTS: readonly Variant[] = ["none", "metrics", "sdk only", "metrics+otel"];

/** Wall-clock rate and CPU rate (jobs per second of this process's CPU time). */
interface Rates {
  readonly wall: number;
  readonly cpu: number;
}
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Registers an SDK tracer provider, context manager and propagator, as an application would, and
 * uses the context manager once (on Node 20, an AsyncLocalStorage taxes every promise from its
 * first use on, whoever uses it).
 */
async function installOtel(): Promise<Hooks> {
  const { context, propagation, trace } = await import("@opentelemetry/api");
  const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
  const { W3CTraceContextPropagator } = await import("@opentelemetry/core");
  const { BasicTracerProvider } = await import("@opentelemetry/sdk-trace-base");
  const { openTelemetry } = await import("repid/otel");
  const drop = {
    onStart: () => {},
    onEnd: () => {},
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [drop] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.with(context.active(), () => {});
  return openTelemetry().hooks;
}

/** One measurement: enqueue `n` (+ warm-up) jobs, then time processing them. */
async function measure(kind: BrokerKind, variant: Variant, n: number): Promise<Rates> {
  const broker: MessageBroker =
    kind === "memory"
      ? new InMemoryMessageBroker()
      : new (await import("repid/redis")).RedisMessageBroker(url, { prefix: "repid-bench-obs" });
  const hooks: Hooks[] = [];
  if (variant === "metrics" || variant === "metrics+otel") {
    const { prometheusMetrics } = await import("repid/metrics");
    hooks.push(prometheusMetrics({ broker }).hooks);
  }
  if (variant === "sdk only") await installOtel();
  if (variant === "metrics+otel") hooks.push(await installOtel());
  const connection = new Connection(broker, { hooks });
  const queueName = `bench-obs-${randomUUID()}`;
  const queue = new Queue(queueName, { connection });
  await queue.declare();
  const job = new Job("noop", { queue, connection });
  const run = async (count: number): Promise<Rates> => {
    for (let sent = 0; sent < count; sent += 1000) {
      const batch = Math.min(1000, count - sent);
      await enqueueMany(
        Array.from({ length: batch }, () => job),
        { connection },
      );
    }
    const worker = new Worker({
      connection,
      concurrency: 100,
      messagesLimit: count,
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
  };
  try {
    await run(Math.min(2_000, n));
    return await run(n);
  } finally {
    await queue.delete();
    await connection.disconnect();
  }
}

function inChild(kind: BrokerKind, variant: Variant, n: number): Promise<Rates> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url).pathname, ["--child", kind, variant, String(n)], {
      execArgv: ["--import", "tsx"],
    });
    child.once("message", (m) => resolve(m as Rates));
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`${kind}/${variant} exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const only = process.argv.find((_, i) => process.argv[i - 1] === "--only");
  const kinds = (only?.split(",") ?? ["memory", "redis"]) as BrokerKind[];
  const repeats = quick ? 1 : 3;
  const sizes: Record<BrokerKind, number> = {
    memory: quick ? 10_000 : 50_000,
    redis: quick ? 5_000 : 20_000,
  };
  const lines: string[] = [];
  for (const kind of kinds) {
    const rates = new Map<Variant, Rates[]>(VARIANTS.map((v) => [v, []]));
    for (let r = 0; r < repeats; r++) {
      // Rotate the order, so that no variant always runs first (or last) on a busy machine.
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
      for (const variant of order)
        rates.get(variant)!.push(await inChild(kind, variant, sizes[kind]));
    }
    const median = (variant: Variant, of: keyof Rates) =>
      summarize(rates.get(variant)!.map((x) => x[of]));
    const base = { wall: median("none", "wall").median, cpu: median("none", "cpu").median };
    for (const variant of VARIANTS) {
      const [wall, cpu] = [median(variant, "wall"), median(variant, "cpu")];
      const ratio = (s: number, b: number): string => `${((s / b) * 100).toFixed(0)}%`.padStart(5);
      lines.push(
        [
          kind.padEnd(7),
          variant.padEnd(13),
          `${String(wall.median).padStart(6)} jobs/s (${wall.min}–${wall.max})`.padEnd(30),
          ratio(wall.median, base.wall),
          `${String(cpu.median).padStart(6)} jobs/CPU-s`,
          ratio(cpu.median, base.cpu),
        ].join(" "),
      );
    }
  }
  console.log(
    `processing no-op jobs at concurrency 100, medians of ${repeats} (in-memory ${sizes.memory} jobs, Redis ${sizes.redis}); % of "none"\n${lines.join("\n")}`,
  );
}

if (process.argv[2] === "--child") {
  const [, , , kind, variant, n] = process.argv;
  const rates = await measure(kind as BrokerKind, variant as Variant, Number(n));
  // Run by hand (to profile one variant), it prints its figures.
  if (process.send) process.send(rates, () => process.exit(0));
  else console.log(rates);
} else {
  await main();
}

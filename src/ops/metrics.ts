/**
 * Prometheus metrics with `prom-client`, built on the lifecycle hooks: counters and histograms
 * are fed by `onEnqueue`, `aroundRun` and `onEvent`; the per-queue gauges are sampled from the
 * broker's `counts()` when a scrape asks for them, and reused for a moment so that frequent
 * scrapes (or several scrapers) do not hammer the broker.
 *
 * The hot path allocates nothing per job: each (queue, actor) pair gets its label-bound children
 * once, looked up in a two-level map by the strings the job already carries.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MessageBroker, QueueCounts } from "../brokers/broker.js";
import { toMs, type Duration } from "../duration.js";
import type { EnqueueEvent, Hooks, LifecycleEvent, RunEvent, RunOutcome } from "../hooks.js";
import { METRICS_ENDPOINT, type HooksWithMetrics, type MetricsEndpoint } from "./health-options.js";

export interface PrometheusMetricsOptions {
  /**
   * Where the metrics are registered. Pass prom-client's global `register` to serve them with
   * your other metrics. @defaultValue a new `Registry` of its own
   */
  readonly registry?: Registry;
  /** Put before every metric name. @defaultValue "repid_" */
  readonly prefix?: string;
  /**
   * The broker whose `counts()` feed the per-queue gauges (`<prefix>queue_messages`) at scrape
   * time, for every queue seen in an enqueue or a worker start, plus `queues`. Without one, those
   * gauges are not reported. @defaultValue none
   */
  readonly broker?: Pick<MessageBroker, "counts">;
  /** Queues to sample from the start (a process that neither enqueues nor works). @defaultValue [] */
  readonly queues?: readonly string[];
  /** How long sampled queue counts are reused by later scrapes. @defaultValue "5s" */
  readonly countsMaxAge?: Duration;
  /** A queue whose counts take longer than this is left out of that scrape. @defaultValue "2s" */
  readonly countsTimeout?: Duration;
  /** Buckets of the run-duration histogram, in seconds. @defaultValue prom-client's defaults */
  readonly runDurationBuckets?: readonly number[];
  /** Buckets of the queue-wait histogram, in seconds. @defaultValue prom-client's defaults */
  readonly queueWaitBuckets?: readonly number[];
}

/** What `prometheusMetrics()` returns. */
export interface PrometheusMetrics extends MetricsEndpoint {
  /** Register these on a `Connection` (producers and workers) or a `Worker`. */
  readonly hooks: HooksWithMetrics;
  /** The registry the metrics live in. */
  readonly registry: Registry;
}

type Inc = { inc(value?: number): void };
type Observe = { observe(value: number): void };

/** The label-bound children of one (queue, actor) pair. */
interface Children {
  readonly enqueued: Inc;
  readonly started: Inc;
  readonly succeeded: Inc;
  readonly failed: Inc;
  readonly retried: Inc;
  readonly deadLettered: Inc;
  readonly rescheduled: Inc;
  readonly recovered: Inc;
  readonly inFlight: Inc & { dec(value?: number): void };
  readonly runDuration: Observe;
  readonly queueWait: Observe;
}

const STATES = [
  "ready",
  "delayed",
  "running",
  "dead",
] as const satisfies readonly (keyof QueueCounts)[];

/**
 * Prometheus metrics for repid. Metric names (after `prefix`), labelled `queue` and `actor`:
 * counters `jobs_enqueued_total`, `jobs_started_total`, `jobs_succeeded_total`,
 * `jobs_failed_total` (attempts that threw or timed out), `jobs_retried_total`,
 * `jobs_dead_lettered_total`, `jobs_rescheduled_total` (periodic runs),
 * `jobs_recovered_total` (runs of messages whose previous lease ended unsettled); histograms
 * `job_run_duration_seconds` and `job_queue_wait_seconds` (enqueue or due time → start); gauge
 * `jobs_in_flight`. Gauge `queue_messages` (labels `queue`, `state`: ready, delayed, running,
 * dead) is sampled from `broker` at scrape time, and `queue_sample_errors_total` counts failed
 * samples.
 *
 * A worker with `health` serves these at `/metrics`; or serve `scrape()` yourself.
 * @example
 * import { prometheusMetrics } from "repid/metrics";
 * const broker = new RedisMessageBroker(url);
 * const metrics = prometheusMetrics({ broker });
 * const app = new Repid(new Connection(broker, { hooks: [metrics.hooks] }));
 * new Worker({ health: { port: 9464 } }); // serves /metrics
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? "repid_";
  const registers = [registry];
  const labelNames = ["queue", "actor"] as const;
  const counter = (name: string, help: string): Counter<"queue" | "actor"> =>
    new Counter({ name: prefix + name, help, labelNames, registers });
  const histogram = (
    name: string,
    help: string,
    buckets: readonly number[] | undefined,
  ): Histogram<"queue" | "actor"> =>
    new Histogram({
      name: prefix + name,
      help,
      labelNames,
      registers,
      ...(buckets ? { buckets: [...buckets] } : {}),
    });

  const enqueued = counter("jobs_enqueued_total", "Messages handed to the broker by producers.");
  const started = counter("jobs_started_total", "Runs started (every attempt).");
  const succeeded = counter("jobs_succeeded_total", "Jobs that ran to success.");
  const failed = counter("jobs_failed_total", "Attempts that threw or timed out.");
  const retried = counter("jobs_retried_total", "Failed attempts put back for a retry.");
  const deadLettered = counter("jobs_dead_lettered_total", "Messages dead-lettered.");
  const rescheduled = counter("jobs_rescheduled_total", "Periodic runs put back for the next.");
  const recovered = counter(
    "jobs_recovered_total",
    "Runs of messages whose previous lease ended unsettled (a crashed or hung worker).",
  );
  const inFlight = new Gauge({
    name: `${prefix}jobs_in_flight`,
    help: "Actors running now.",
    labelNames,
    registers,
  });
  const runDuration = histogram(
    "job_run_duration_seconds",
    "Time an actor ran, per attempt.",
    options.runDurationBuckets,
  );
  const queueWait = histogram(
    "job_queue_wait_seconds",
    "Time from enqueue (or due time) to the start of a run.",
    options.queueWaitBuckets,
  );

  const byQueue = new Map<string, Map<string, Children>>();
  const children = (queue: string, actor: string): Children => {
    let byActor = byQueue.get(queue);
    if (!byActor) byQueue.set(queue, (byActor = new Map()));
    let found = byActor.get(actor);
    if (!found) {
      found = {
        enqueued: enqueued.labels(queue, actor),
        started: started.labels(queue, actor),
        succeeded: succeeded.labels(queue, actor),
        failed: failed.labels(queue, actor),
        retried: retried.labels(queue, actor),
        deadLettered: deadLettered.labels(queue, actor),
        rescheduled: rescheduled.labels(queue, actor),
        recovered: recovered.labels(queue, actor),
        inFlight: inFlight.labels(queue, actor),
        runDuration: runDuration.labels(queue, actor),
        queueWait: queueWait.labels(queue, actor),
      };
      // Every series starts at zero, so that its first increase shows in `rate()` / `increase()`.
      for (const metric of [enqueued, started, succeeded, failed, retried, deadLettered]) {
        metric.inc({ queue, actor }, 0);
      }
      rescheduled.inc({ queue, actor }, 0);
      recovered.inc({ queue, actor }, 0);
      inFlight.set({ queue, actor }, 0);
      runDuration.zero({ queue, actor });
      queueWait.zero({ queue, actor });
      byActor.set(actor, found);
    }
    return found;
  };

  let sampler: QueueSampler | undefined;
  if (options.broker) {
    const sampleErrors = new Counter({
      name: `${prefix}queue_sample_errors_total`,
      help: "Samples of a queue's counts the broker failed to give (or gave too late).",
      labelNames: ["queue"],
      registers,
      async collect() {
        await sampler!.sample();
      },
    });
    sampler = new QueueSampler(
      options.broker,
      toMs(options.countsMaxAge ?? 5_000, "countsMaxAge"),
      toMs(options.countsTimeout ?? 2_000, "countsTimeout"),
      options.queues ?? [],
      (queue) => sampleErrors.inc({ queue }),
    );
    const queues = sampler;
    new Gauge({
      name: `${prefix}queue_messages`,
      help: "Messages per queue and state, sampled from the broker at scrape time.",
      labelNames: ["queue", "state"],
      registers,
      async collect() {
        this.reset();
        for (const [queue, counts] of await queues.sample()) {
          if (counts) for (const state of STATES) this.set({ queue, state }, counts[state]);
        }
      },
    });
  }

  const endpoint: MetricsEndpoint = {
    get contentType() {
      return registry.contentType;
    },
    scrape: () => registry.metrics(),
  };
  const hooks: HooksWithMetrics = {
    [METRICS_ENDPOINT]: endpoint,
    onEnqueue(event: EnqueueEvent): void {
      children(event.queue, event.actor).enqueued.inc();
      sampler?.learn(event.queue);
    },
    async aroundRun(event: RunEvent, next: () => Promise<RunOutcome>): Promise<RunOutcome> {
      const c = children(event.queue, event.actor);
      c.inFlight.inc();
      const t0 = performance.now();
      try {
        const outcome = await next();
        if (!outcome.ok && countsAsFailure(outcome.error.code)) c.failed.inc();
        return outcome;
      } finally {
        c.runDuration.observe((performance.now() - t0) / 1000);
        c.inFlight.dec();
      }
    },
    onEvent(event: LifecycleEvent): void {
      switch (event.type) {
        case "started": {
          const c = children(event.job.queue, event.job.actor);
          c.started.inc();
          c.queueWait.observe(event.waitMs / 1000);
          return;
        }
        case "succeeded":
          return children(event.job.queue, event.job.actor).succeeded.inc();
        case "retried":
          return children(event.job.queue, event.job.actor).retried.inc();
        case "dead-lettered":
          return children(event.job.queue, event.job.actor).deadLettered.inc();
        case "rescheduled":
          return children(event.job.queue, event.job.actor).rescheduled.inc();
        case "recovered":
          return children(event.job.queue, event.job.actor).recovered.inc();
        case "worker-started":
          for (const queue of event.queues) sampler?.learn(queue);
          return;
      }
    },
  };
  return {
    hooks,
    registry,
    get contentType() {
      return registry.contentType;
    },
    scrape: endpoint.scrape,
  };
}

/** Stopped from outside (a worker stopping, a lost lease, an operator) is not a failure. */
function countsAsFailure(code: string | undefined): boolean {
  return code !== "ACTOR_ABORTED" && code !== "CANCELLED";
}

/**
 * Samples `counts()` of every known queue, at most once per `maxAgeMs`; scrapes that come while
 * a sample is under way share it. A queue that fails (or times out) is reported as `undefined`.
 */
class QueueSampler {
  readonly #broker: Pick<MessageBroker, "counts">;
  readonly #maxAgeMs: number;
  readonly #timeoutMs: number;
  readonly #queues: Set<string>;
  readonly #failed: (queue: string) => void;
  #last: { at: number; counts: Map<string, QueueCounts | undefined> } | undefined;
  #pending: Promise<Map<string, QueueCounts | undefined>> | undefined;

  constructor(
    broker: Pick<MessageBroker, "counts">,
    maxAgeMs: number,
    timeoutMs: number,
    queues: readonly string[],
    failed: (queue: string) => void,
  ) {
    this.#failed = failed;
    this.#broker = broker;
    this.#maxAgeMs = maxAgeMs;
    this.#timeoutMs = timeoutMs;
    this.#queues = new Set(queues);
  }

  learn(queue: string): void {
    if (this.#queues.has(queue)) return;
    this.#queues.add(queue);
    // A new queue shows up at the next scrape, not after the cache ages.
    this.#last = undefined;
  }

  sample(): Promise<Map<string, QueueCounts | undefined>> {
    const last = this.#last;
    if (last && performance.now() - last.at < this.#maxAgeMs) return Promise.resolve(last.counts);
    return (this.#pending ??= this.#fetch().finally(() => (this.#pending = undefined)));
  }

  async #fetch(): Promise<Map<string, QueueCounts | undefined>> {
    const queues = [...this.#queues].sort();
    const results = await Promise.all(queues.map((queue) => this.#one(queue)));
    const counts = new Map(queues.map((queue, i) => [queue, results[i]]));
    this.#last = { at: performance.now(), counts };
    return counts;
  }

  async #one(queue: string): Promise<QueueCounts | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, this.#timeoutMs, undefined);
    });
    try {
      const counts = await Promise.race([this.#broker.counts(queue).catch(() => undefined), late]);
      if (!counts) this.#failed(queue);
      return counts;
    } finally {
      clearTimeout(timer);
    }
  }
}

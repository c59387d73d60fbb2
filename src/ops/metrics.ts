/**
 * Prometheus metrics with `prom-client`, built on the lifecycle hooks: counters and histograms
 * are fed by `onEnqueue`, `aroundRun` and `onEvent`; the per-queue gauges are sampled from the
 * broker's `counts()` when a scrape asks for them, and reused for a moment so that frequent
 * scrapes (or several scrapers) do not hammer the broker.
 *
 * The hot path is a few number bumps per job: each (queue, actor) pair gets its series once
 * (`metric-families.ts`), found again through a two-level map by the strings the job carries.
 */
import { Counter, Registry } from "prom-client";
import type { MessageBroker } from "../brokers/broker.js";
import { toMs, type Duration } from "../core/duration.js";
import type { EnqueueEvent, LifecycleEvent, RunEvent, RunOutcome } from "../core/hooks.js";
import {
  HistogramFamily,
  ValueFamily,
  type HistogramSeries,
  type ValueSeries,
} from "./metric-families.js";
import { METRICS_ENDPOINT, type HooksWithMetrics, type MetricsEndpoint } from "./health-options.js";
import { registerQueueGauges } from "./queue-gauges.js";

export interface PrometheusMetricsOptions {
  /**
   * Where the metrics are registered. Pass prom-client's global `register` to serve them with
   * your other metrics. @defaultValue a new `Registry` of its own
   */
  readonly registry?: Registry;
  /** Put before every metric name. @defaultValue "repid_" */
  readonly prefix?: string;
  /**
   * The broker whose `counts()` feed the per-queue gauges (`<prefix>queue_messages`,
   * `<prefix>jobs_limited`) at scrape time, for every queue seen in an enqueue or a worker start, plus `queues`. Without one, those
   * gauges are not reported. @defaultValue none
   */
  readonly broker?: Pick<MessageBroker, "counts">;
  /** Queues to sample from the start (a process that neither enqueues nor works). @defaultValue [] */
  readonly queues?: readonly string[];
  /** How long sampled queue counts are reused by later scrapes. @defaultValue "5s" */
  readonly countsMaxAge?: Duration;
  /** A queue whose counts take longer than this is left out of that scrape. @defaultValue "2s" */
  readonly countsTimeout?: Duration;
  /** Buckets of the run-duration histogram, in seconds. @defaultValue `DEFAULT_BUCKETS` */
  readonly runDurationBuckets?: readonly number[];
  /** Buckets of the queue-wait histogram, in seconds. @defaultValue `DEFAULT_BUCKETS` */
  readonly queueWaitBuckets?: readonly number[];
}

/** What `prometheusMetrics()` returns. */
export interface PrometheusMetrics extends MetricsEndpoint {
  /** Register these on a `Connection` (producers and workers) or a `Worker`. */
  readonly hooks: HooksWithMetrics;
  /** The registry the metrics live in. */
  readonly registry: Registry;
}

/** The series of one (queue, actor) pair, made once and bumped directly by the hooks. */
interface Children {
  readonly enqueued: ValueSeries;
  readonly started: ValueSeries;
  readonly succeeded: ValueSeries;
  readonly failed: ValueSeries;
  readonly retried: ValueSeries;
  readonly deadLettered: ValueSeries;
  readonly rescheduled: ValueSeries;
  readonly recovered: ValueSeries;
  readonly inFlight: ValueSeries;
  readonly runDuration: HistogramSeries;
  readonly queueWait: HistogramSeries;
}

/** Seconds; past prom-client's defaults (10 s) up to 5 minutes, for long jobs and long waits. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/**
 * Prometheus metrics for repid. Metric names (after `prefix`), labelled `queue` and `actor`:
 * counters `jobs_enqueued_total`, `jobs_started_total`, `jobs_succeeded_total`,
 * `jobs_failed_total` (attempts that threw or timed out), `jobs_retried_total`,
 * `jobs_dead_lettered_total`, `jobs_rescheduled_total` (periodic runs),
 * `jobs_recovered_total` (runs of messages whose previous lease ended unsettled),
 * `jobs_old_schema_total` (messages of another schema fingerprint than the worker's, labelled
 * also `fingerprint` and `handling`: validated, upcast or dead-lettered); histograms
 * `job_run_duration_seconds` and `job_queue_wait_seconds` (enqueue or due time → start); gauge
 * `jobs_in_flight`. Sampled from `broker` at scrape time (`queue-gauges.ts`): gauge
 * `queue_messages` (labels `queue`, `state`: ready, limited, delayed, running, dead; `limited`
 * counts jobs that are due but wait for a concurrency or rate limit of their actor, not counted in
 * `ready`, and is 0 on a broker without limits) and gauge `jobs_limited` (labels `queue`, `actor`:
 * those waiting jobs per actor, from the broker's `limitedBy`; an actor once seen there stays at 0
 * when none of its jobs wait any more); `queue_sample_errors_total` counts failed samples. A worker's messages for actors it does not run (each dead-lettered) are labelled
 * `actor="unknown"`, so that names sent by mistake do not each add a set of series.
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
  const counter = (name: string, help: string): ValueFamily =>
    new ValueFamily(registry, "counter", prefix + name, help);
  const histogram = (name: string, help: string, buckets: readonly number[] | undefined) =>
    new HistogramFamily(registry, prefix + name, help, buckets ?? DEFAULT_BUCKETS);

  const enqueued = counter(
    "jobs_enqueued_total",
    "Messages producers sent (counted as they go to the broker, before it answers).",
  );
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
  const oldSchema = new Counter({
    name: `${prefix}jobs_old_schema_total`,
    help: "Messages received with another schema fingerprint than the worker's registry, by how they were handled (validated, upcast, dead-lettered): when it stays flat, the old schema can be dropped.",
    labelNames: ["queue", "actor", "fingerprint", "handling"],
    registers,
  });
  const inFlight = new ValueFamily(
    registry,
    "gauge",
    `${prefix}jobs_in_flight`,
    "Actors running now.",
  );
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

  // Every series starts at zero as soon as its queue and actor are seen, so that its first
  // increase shows in `rate()` and `increase()`.
  const byQueue = new Map<string, Map<string, Children>>();
  /** Actors run by the workers of this process (from their "worker-started" events). */
  const known = new Set<string>();
  const children = (queue: string, actor: string): Children => {
    let byActor = byQueue.get(queue);
    if (!byActor) byQueue.set(queue, (byActor = new Map()));
    let found = byActor.get(actor);
    if (!found) {
      const labels = { queue, actor };
      found = {
        enqueued: enqueued.child(labels),
        started: started.child(labels),
        succeeded: succeeded.child(labels),
        failed: failed.child(labels),
        retried: retried.child(labels),
        deadLettered: deadLettered.child(labels),
        rescheduled: rescheduled.child(labels),
        recovered: recovered.child(labels),
        inFlight: inFlight.child(labels),
        runDuration: runDuration.child(labels),
        queueWait: queueWait.child(labels),
      };
      byActor.set(actor, found);
    }
    return found;
  };

  const sampler = options.broker
    ? registerQueueGauges({
        registry,
        prefix,
        broker: options.broker,
        queues: options.queues ?? [],
        maxAgeMs: toMs(options.countsMaxAge ?? 5_000, "countsMaxAge"),
        timeoutMs: toMs(options.countsTimeout ?? 2_000, "countsTimeout"),
      })
    : undefined;

  const endpoint: MetricsEndpoint = {
    get contentType() {
      return registry.contentType;
    },
    scrape: () => registry.metrics(),
  };
  const hooks: HooksWithMetrics = {
    [METRICS_ENDPOINT]: endpoint,
    onEnqueue(event: EnqueueEvent): void {
      children(event.queue, event.actor).enqueued.value++;
      sampler?.learn(event.queue);
    },
    aroundRun(event: RunEvent, next: () => Promise<RunOutcome>): Promise<RunOutcome> {
      const c = children(event.queue, event.actor);
      c.inFlight.value++;
      const t0 = performance.now();
      // Anonymous callbacks, no named closure: dev-time transpilers (tsx) wrap each named one in
      // a `__name` call per job.
      return next().then(
        (outcome) => {
          c.runDuration.observe((performance.now() - t0) / 1000);
          c.inFlight.value--;
          if (!outcome.ok && countsAsFailure(outcome.error.code)) c.failed.value++;
          return outcome;
        },
        (error: unknown) => {
          c.runDuration.observe((performance.now() - t0) / 1000);
          c.inFlight.value--;
          throw error;
        },
      );
    },
    onEvent(event: LifecycleEvent): void {
      if (event.type === "worker-started") {
        for (const queue of event.queues) sampler?.learn(queue);
        for (const actor of event.actors) known.add(actor);
        return;
      }
      if (!("job" in event)) return;
      // A worker's events for an actor it does not run (a typo, a producer ahead of the
      // workers) go under one label: one series set, not one per name it is sent.
      const actor = known.size === 0 || known.has(event.job.actor) ? event.job.actor : UNKNOWN;
      switch (event.type) {
        case "started": {
          const c = children(event.job.queue, actor);
          c.started.value++;
          c.queueWait.observe(event.waitMs / 1000);
          return;
        }
        case "succeeded":
          children(event.job.queue, actor).succeeded.value++;
          return;
        case "retried":
          children(event.job.queue, actor).retried.value++;
          return;
        case "dead-lettered":
          children(event.job.queue, actor).deadLettered.value++;
          return;
        case "rescheduled":
          children(event.job.queue, actor).rescheduled.value++;
          return;
        case "recovered":
          children(event.job.queue, actor).recovered.value++;
          return;
        case "old-schema":
          oldSchema.inc({
            queue: event.job.queue,
            actor,
            fingerprint: event.fingerprint,
            handling: event.handling,
          });
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

/** The `actor` label of a worker's events for actors it does not run. */
const UNKNOWN = "unknown";

/** Stopped from outside (a worker stopping, a lost lease, an operator) is not a failure. */
function countsAsFailure(code: string | undefined): boolean {
  return code !== "ACTOR_ABORTED" && code !== "CANCELLED";
}

/**
 * The per-queue gauges of `prometheusMetrics()`: sampled from the broker's `counts()` when a
 * scrape asks for them (not on the hot path), and reused for a moment so that frequent scrapes (or
 * several scrapers) do not hammer the broker.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { MessageBroker, QueueCounts } from "../brokers/broker.js";

/** The `state` label values of `queue_messages`; `limited` is 0 on a broker that reports none. */
const STATES = [
  "ready",
  "limited",
  "delayed",
  "running",
  "dead",
] as const satisfies readonly (keyof QueueCounts)[];

export interface QueueGaugeOptions {
  readonly registry: Registry;
  readonly prefix: string;
  readonly broker: Pick<MessageBroker, "counts">;
  readonly queues: readonly string[];
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
}

/**
 * Registers `queue_messages{queue,state}`, `jobs_limited{queue,actor}` and
 * `queue_sample_errors_total{queue}`; returns the sampler, to `learn()` the queues seen later.
 * A queue whose sample fails is left out of both gauges in that scrape. An actor once reported in
 * `limitedBy` stays in `jobs_limited` at 0 when nothing of it waits any more, so that the series
 * goes back to zero rather than vanish at its last value.
 */
export function registerQueueGauges(options: QueueGaugeOptions): QueueSampler {
  const { registry, prefix } = options;
  const registers = [registry];
  const sampleErrors = new Counter({
    name: `${prefix}queue_sample_errors_total`,
    help: "Samples of a queue's counts the broker failed to give (or gave too late).",
    labelNames: ["queue"],
    registers,
    async collect() {
      await sampler.sample();
    },
  });
  const sampler = new QueueSampler(
    options.broker,
    options.maxAgeMs,
    options.timeoutMs,
    options.queues,
    (queue) => sampleErrors.inc({ queue }),
  );
  new Gauge({
    name: `${prefix}queue_messages`,
    help: "Messages per queue and state (limited: due, but waiting for a concurrency or rate limit of their actor), sampled from the broker at scrape time.",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      this.reset();
      for (const [queue, counts] of await sampler.sample()) {
        if (counts) for (const state of STATES) this.set({ queue, state }, counts[state] ?? 0);
      }
    },
  });
  /** The actors each queue has reported in `limitedBy` so far. */
  const limitedActors = new Map<string, Set<string>>();
  new Gauge({
    name: `${prefix}jobs_limited`,
    help: "Jobs due but waiting for a concurrency or rate limit of their actor, per queue and actor, sampled from the broker at scrape time.",
    labelNames: ["queue", "actor"],
    registers,
    async collect() {
      this.reset();
      for (const [queue, counts] of await sampler.sample()) {
        if (!counts) continue;
        const by = counts.limitedBy ?? {};
        let actors = limitedActors.get(queue);
        for (const actor of Object.keys(by)) {
          if (!actors) limitedActors.set(queue, (actors = new Set()));
          actors.add(actor);
        }
        for (const actor of actors ?? []) this.set({ queue, actor }, by[actor] ?? 0);
      }
    },
  });
  return sampler;
}

/**
 * Samples `counts()` of every known queue, at most once per `maxAgeMs`; scrapes that come while
 * a sample is under way share it. A queue that fails (or times out) is reported as `undefined`.
 */
export class QueueSampler {
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

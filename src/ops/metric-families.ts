/**
 * Metric families built for the hot path: each series (one label set) is a plain object that the
 * hooks bump directly, with no label hashing, no lookup and no allocation per job. A prom-client
 * `Registry` reads them at scrape time through the same `get()` its own metrics answer, so they
 * print, merge and reset like prom-client's counters, gauges and histograms.
 */
import type { Registry } from "prom-client";

export type Labels = Readonly<Record<string, string>>;

/** One sample line, as prom-client's registry prints it. */
interface Sample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
}

interface Snapshot {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly aggregator: "sum";
  readonly values: Sample[];
}

/** A counter's or gauge's series: bump `value`. */
export interface ValueSeries {
  value: number;
}

/** A histogram's series. */
export class HistogramSeries {
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last one is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

abstract class Family<TSeries> {
  /**
   * Not readonly: prom-client renames counters (drops `_total`) when its registry serves the
   * OpenMetrics format.
   */
  name: string;
  readonly help: string;
  readonly aggregator = "sum" as const;
  protected readonly series = new Map<string, { labels: Labels; series: TSeries }>();

  constructor(registry: Registry, name: string, help: string) {
    this.name = name;
    this.help = help;
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** The series of these labels, made (at zero) on first use: call once and keep it. */
  child(labels: Labels): TSeries {
    const key = JSON.stringify(labels);
    let found = this.series.get(key);
    if (!found) this.series.set(key, (found = { labels, series: this.make() }));
    return found.series;
  }

  abstract readonly type: Snapshot["type"];
  protected abstract make(): TSeries;
  abstract reset(): void;
  abstract get(): Promise<Snapshot>;

  protected snapshot(values: Sample[]): Promise<Snapshot> {
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
  }
}

/** A counter or a gauge. */
export class ValueFamily extends Family<ValueSeries> {
  readonly type: "counter" | "gauge";

  constructor(registry: Registry, type: "counter" | "gauge", name: string, help: string) {
    super(registry, name, help);
    this.type = type;
  }

  protected make(): ValueSeries {
    return { value: 0 };
  }

  reset(): void {
    for (const { series } of this.series.values()) series.value = 0;
  }

  get(): Promise<Snapshot> {
    const values = [...this.series.values()].map(({ labels, series }) => ({
      labels,
      value: series.value,
    }));
    return this.snapshot(values);
  }
}

/** A histogram with fixed bucket bounds (sorted ascending). */
export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = "histogram" as const;
  readonly #bounds: readonly number[];

  constructor(registry: Registry, name: string, help: string, bounds: readonly number[]) {
    super(registry, name, help);
    this.#bounds = [...bounds].sort((a, b) => a - b);
  }

  protected make(): HistogramSeries {
    return new HistogramSeries(this.#bounds);
  }

  reset(): void {
    for (const { series } of this.series.values()) series.reset();
  }

  get(): Promise<Snapshot> {
    const values: Sample[] = [];
    for (const { labels, series } of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.#bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: i < this.#bounds.length ? this.#bounds[i]! : "+Inf", ...labels },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: series.count });
    }
    return this.snapshot(values);
  }
}

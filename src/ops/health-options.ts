/**
 * The `health` option of a `Worker`, checked when the worker is built. The server itself
 * (`./health.ts`, with `node:http`) is loaded only when a worker that has the option runs
 * (`./start-health.ts`).
 */
import { toMs, type Duration } from "../core/duration.js";
import { InvalidOptionError } from "../core/errors.js";
import type { Hooks } from "../core/hooks.js";
import { checkKnownKeys, checkObject } from "../core/validate.js";

/** Serves Prometheus text; `prometheusMetrics()` from `repid/metrics` makes one. */
export interface MetricsEndpoint {
  /** The `Content-Type` of `scrape()`'s text. */
  readonly contentType: string;
  /** The metrics, in the Prometheus text format. */
  scrape(): Promise<string>;
}

/**
 * Marks a hooks object that can also serve its metrics: a worker with `health` serves the first
 * one it finds among its hooks (the connection's, then its own) at `/metrics`.
 */
export const METRICS_ENDPOINT: unique symbol = Symbol.for("repid.metrics-endpoint");

/** A hooks object carrying a metrics endpoint (see `METRICS_ENDPOINT`). */
export type HooksWithMetrics = Hooks & { readonly [METRICS_ENDPOINT]: MetricsEndpoint };

/** The `health` option of a `Worker`: an HTTP server for probes and scrapes. */
export interface HealthOptions {
  /** Port to listen on; `0` picks a free one (read it from `worker.healthAddress`). */
  readonly port: number;
  /** @defaultValue "127.0.0.1" (use "0.0.0.0" to be reached from outside a container) */
  readonly host?: string;
  /**
   * `/healthz` fails (503) while the event loop lags more than this: the process is alive but
   * stuck (a synchronous actor hogging it, say). @defaultValue "1s"
   */
  readonly maxEventLoopLag?: Duration;
  /**
   * `/readyz` fails (503) when the broker does not answer a light request within this long.
   * @defaultValue "2s"
   */
  readonly brokerTimeout?: Duration;
  /**
   * What `/metrics` serves. @defaultValue the first hooks object registered on the connection
   * or the worker that carries metrics (`prometheusMetrics().hooks`); without one, `/metrics`
   * answers 404.
   */
  readonly metrics?: MetricsEndpoint;
}

/** `HealthOptions` with every default applied. */
export interface HealthSettings {
  readonly port: number;
  readonly host: string;
  readonly maxLagMs: number;
  readonly brokerTimeoutMs: number;
  readonly metrics: MetricsEndpoint | undefined;
}

const KNOWN = ["port", "host", "maxEventLoopLag", "brokerTimeout", "metrics"] as const;

/** Validates the `health` option (throws `InvalidOptionError`) and applies its defaults. */
export function healthSettings(options: unknown): HealthSettings {
  const raw = checkObject("health", options);
  checkKnownKeys("health", raw, KNOWN);
  const o = raw as unknown as HealthOptions;
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65_535) {
    throw new InvalidOptionError("health.port", "expected an integer from 0 to 65535");
  }
  if (o.host !== undefined && (typeof o.host !== "string" || o.host === "")) {
    throw new InvalidOptionError("health.host", "expected a host name or address");
  }
  const metrics = o.metrics;
  if (metrics !== undefined && typeof metrics?.scrape !== "function") {
    throw new InvalidOptionError("health.metrics", "expected an object with scrape()");
  }
  return {
    port: o.port,
    host: o.host ?? "127.0.0.1",
    maxLagMs: toMs(o.maxEventLoopLag ?? 1_000, "health.maxEventLoopLag"),
    brokerTimeoutMs: toMs(o.brokerTimeout ?? 2_000, "health.brokerTimeout"),
    metrics,
  };
}

/** The metrics endpoint of the first hooks object that carries one. */
export function findMetrics(hooks: readonly Hooks[]): MetricsEndpoint | undefined {
  for (const hook of hooks) {
    const endpoint = (hook as Partial<HooksWithMetrics>)[METRICS_ENDPOINT];
    if (endpoint) return endpoint;
  }
  return undefined;
}

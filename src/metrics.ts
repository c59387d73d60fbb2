/**
 * Prometheus metrics, as their own entry point so that only their users load `prom-client` (an
 * optional peer dependency of repid: `npm install prom-client`).
 * @example
 * import { Connection, Repid, Worker } from "repid";
 * import { prometheusMetrics } from "repid/metrics";
 * const metrics = prometheusMetrics({ broker });
 * const app = new Repid(new Connection(broker, { hooks: [metrics.hooks] }));
 * const worker = new Worker({ health: { port: 9464 } }); // GET /metrics
 */
export {
  prometheusMetrics,
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
} from "./ops/metrics.js";
export type { MetricsEndpoint } from "./ops/health-options.js";

/**
 * OpenTelemetry tracing, as its own entry point so that only its users load
 * `@opentelemetry/api` (an optional peer dependency of repid: `npm install @opentelemetry/api`,
 * plus an SDK of your choice to record and export the spans).
 * @example
 * import { Connection, Repid } from "repid";
 * import { openTelemetry } from "repid/otel";
 * const tracing = openTelemetry();
 * const app = new Repid(new Connection(broker, { hooks: [tracing.hooks] }));
 */
export {
  ATTR,
  openTelemetry,
  type OpenTelemetryOptions,
  type OpenTelemetryTracing,
} from "./ops/otel.js";

/**
 * OpenTelemetry tracing through `@opentelemetry/api` only, built on the lifecycle hooks. Without
 * an SDK registered, the API's no-op tracer and propagator make this cost next to nothing and add
 * no header to any message.
 *
 * - `onEnqueue` starts a producer span (a child of the active context, such as the HTTP request
 *   that enqueues) and injects its context into the message headers (W3C `traceparent` with the
 *   usual SDK setup: whatever propagator is registered).
 * - `aroundRun` extracts that context and runs the actor inside a consumer span, a child of the
 *   producer's, so the actor's own spans (database, HTTP) land in the producer's trace. Every
 *   attempt is a span of its own, with its number in `repid.job.attempt`.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import type { EnqueueEvent, Hooks, RunEvent, RunOutcome } from "../core/hooks.js";

export interface OpenTelemetryOptions {
  /** @defaultValue the global tracer provider's (`trace.getTracerProvider()`) tracer "repid" */
  readonly tracerProvider?: TracerProvider;
  /** @defaultValue the global propagator (`propagation`), W3C trace context with the usual SDKs */
  readonly propagator?: TextMapPropagator;
  /** The `messaging.system` attribute. @defaultValue "repid" */
  readonly system?: string;
}

/** What `openTelemetry()` returns. */
export interface OpenTelemetryTracing {
  /**
   * Register these on the `Connection` of producers and workers alike (both ends are needed for
   * one trace: the producer injects, the worker extracts).
   */
  readonly hooks: Hooks;
  /** The tracer the spans are made with. */
  readonly tracer: Tracer;
}

/** The attributes of a message span, names from the OpenTelemetry messaging conventions. */
export const ATTR = {
  system: "messaging.system",
  destination: "messaging.destination.name",
  messageId: "messaging.message.id",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  errorType: "error.type",
  actor: "repid.actor",
  attempt: "repid.job.attempt",
} as const;

/**
 * Traces from producer to actor. Spans: `send <queue>` (kind PRODUCER, operation type "send")
 * when a message is enqueued, `process <queue>` (kind CONSUMER, operation type "process") around
 * each attempt, its child; a failed attempt records the error and ends with status ERROR.
 * @example
 * import { openTelemetry } from "repid/otel";
 * const tracing = openTelemetry();
 * const app = new Repid(new Connection(broker, { hooks: [tracing.hooks] }));
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetryTracing {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer("repid");
  const propagator = options.propagator ?? propagation;
  const system = options.system ?? "repid";

  const hooks: Hooks = {
    onEnqueue(event: EnqueueEvent): void {
      const active = context.active();
      const span = tracer.startSpan(
        `send ${event.queue}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            [ATTR.system]: system,
            [ATTR.destination]: event.queue,
            [ATTR.messageId]: event.id,
            [ATTR.operationType]: "send",
            [ATTR.operationName]: "enqueue",
            [ATTR.actor]: event.actor,
          },
        },
        active,
      );
      propagator.inject(trace.setSpan(active, span), event.headers, headerSetter);
      span.end();
    },

    aroundRun(event: RunEvent, next: () => Promise<RunOutcome>): Promise<RunOutcome> {
      const parent = propagator.extract(ROOT_CONTEXT, event.headers, headerGetter);
      const attributes: Attributes = {
        [ATTR.system]: system,
        [ATTR.destination]: event.queue,
        [ATTR.messageId]: event.id,
        [ATTR.operationType]: "process",
        [ATTR.operationName]: "process",
        [ATTR.actor]: event.actor,
        [ATTR.attempt]: event.attempt,
      };
      const span = tracer.startSpan(
        `process ${event.queue}`,
        { kind: SpanKind.CONSUMER, attributes },
        parent,
      );
      return context.with(trace.setSpan(parent, span), next).then(
        (outcome) => {
          if (!outcome.ok) {
            const error = outcome.error;
            span.recordException({
              name: error.name,
              message: error.message,
              ...(error.stack !== undefined ? { stack: error.stack } : {}),
            });
            span.setAttribute(ATTR.errorType, error.code ?? error.name);
            span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
          }
          span.end();
          return outcome;
        },
        (error: unknown) => {
          span.end();
          throw error;
        },
      );
    },
  };
  return { hooks, tracer };
}

const headerSetter = {
  set(carrier: Record<string, string>, key: string, value: string): void {
    carrier[key] = value;
  },
};

const headerGetter = {
  get(carrier: Readonly<Record<string, string>>, key: string): string | undefined {
    return Object.hasOwn(carrier, key) ? carrier[key] : undefined;
  },
  keys(carrier: Readonly<Record<string, string>>): string[] {
    return Object.keys(carrier);
  },
};

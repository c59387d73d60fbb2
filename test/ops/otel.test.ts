/**
 * Tracing from producer to actor across a real Redis round trip, recorded with the SDK's
 * in-memory exporter: the producer span is a child of the caller's span, each attempt's consumer
 * span a child of the producer span (same trace), the actor's own spans children of that.
 */
import { randomUUID } from "node:crypto";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Connection,
  InMemoryMessageBroker,
  Job,
  Queue,
  Repid,
  Worker,
  silentLogger,
  type ActorContext,
} from "../../src/index.js";
import { openTelemetry } from "../../src/otel.js";
import { describeRedis, testBroker } from "../brokers/redis-env.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

function installSdk(): void {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

function removeSdk(): void {
  trace.disable();
  context.disable();
  propagation.disable();
}

const id = (span: ReadableSpan): string => span.spanContext().spanId;
const traceOf = (span: ReadableSpan): string => span.spanContext().traceId;
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

describeRedis("OpenTelemetry tracing across Redis (issue 11)", () => {
  beforeAll(installSdk);
  afterAll(removeSdk);

  it("links the caller, the producer span and every attempt's consumer span in one trace", async () => {
    exporter.reset();
    const { broker, cleanup } = testBroker();
    const queueName = `otel-${randomUUID()}`;
    const tracing = openTelemetry();
    const app = new Repid(new Connection(broker, { logger: silentLogger, hooks: [tracing.hooks] }));
    const headersSeen: Record<string, string>[] = [];
    const worker = new Worker({ messagesLimit: 3, handleSignals: [] });
    worker.actor({ queue: queueName }, async function traced_ok(_: unknown, ctx: ActorContext) {
      headersSeen.push({ ...ctx.headers });
      // The actor's own work lands inside its consumer span.
      trace.getTracer("test").startSpan("db query").end();
    });
    worker.actor({ queue: queueName, retryPolicy: () => 0 }, async function traced_fails() {
      throw new Error("boom");
    });
    try {
      await app.magic(async () => {
        const queue = new Queue(queueName);
        await queue.declare();
        await trace.getTracer("test").startActiveSpan("http request", async (request) => {
          await new Job("traced_ok", { queue, id: "ok-1" }).enqueue();
          await new Job("traced_fails", { queue, id: "fails-1", retries: 1 }).enqueue();
          request.end();
        });
        const runner = await worker.run();
        expect(runner).toMatchObject({ succeeded: 1, retried: 1, deadLettered: 1 });
        await queue.delete();
      });
    } finally {
      await cleanup();
    }

    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === "http request")!;
    const producers = spans.filter((s) => s.kind === SpanKind.PRODUCER);
    const consumers = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(producers.map((s) => s.name)).toEqual([`send ${queueName}`, `send ${queueName}`]);
    expect(consumers).toHaveLength(3);
    // One trace, from the request to the last attempt.
    const traceIds = new Set(spans.map(traceOf));
    expect(traceIds).toEqual(new Set([traceOf(request)]));

    const producerOf = (messageId: string): ReadableSpan =>
      producers.find((s) => s.attributes["messaging.message.id"] === messageId)!;
    for (const producer of producers) {
      expect(parentOf(producer)).toBe(id(request));
      expect(producer.attributes).toMatchObject({
        "messaging.system": "repid",
        "messaging.destination.name": queueName,
        "messaging.operation.type": "send",
      });
    }
    // The producer's context reached the actor in the headers, through Redis.
    expect(headersSeen).toEqual([
      { traceparent: `00-${traceOf(request)}-${id(producerOf("ok-1"))}-01` },
    ]);

    const ok = consumers.filter((s) => s.attributes["messaging.message.id"] === "ok-1");
    expect(ok).toHaveLength(1);
    expect(parentOf(ok[0]!)).toBe(id(producerOf("ok-1")));
    expect(ok[0]!.attributes).toMatchObject({
      "messaging.system": "repid",
      "messaging.destination.name": queueName,
      "messaging.operation.type": "process",
      "repid.actor": "traced_ok",
      "repid.job.attempt": 1,
    });
    expect(ok[0]!.status.code).toBe(SpanStatusCode.UNSET);
    const db = spans.find((s) => s.name === "db query")!;
    expect(parentOf(db)).toBe(id(ok[0]!));

    // Each attempt of the failing job is a span of its own, child of the same producer span.
    const fails = consumers
      .filter((s) => s.attributes["messaging.message.id"] === "fails-1")
      .sort(
        (a, b) =>
          Number(a.attributes["repid.job.attempt"]) - Number(b.attributes["repid.job.attempt"]),
      );
    expect(fails.map((s) => s.attributes["repid.job.attempt"])).toEqual([1, 2]);
    for (const attempt of fails) {
      expect(parentOf(attempt)).toBe(id(producerOf("fails-1")));
      expect(attempt.status).toEqual({ code: SpanStatusCode.ERROR, message: "boom" });
      expect(attempt.attributes["error.type"]).toBe("Error");
      expect(attempt.events.map((e) => [e.name, e.attributes?.["exception.message"]])).toEqual([
        ["exception", "boom"],
      ]);
    }
  });
});

describe("OpenTelemetry tracing without an SDK", () => {
  it("adds no header and changes nothing", async () => {
    removeSdk();
    const tracing = openTelemetry();
    const app = new Repid(
      new Connection(new InMemoryMessageBroker(), { logger: silentLogger, hooks: [tracing.hooks] }),
    );
    const seen: Record<string, string>[] = [];
    const worker = new Worker({ messagesLimit: 1, handleSignals: [] });
    worker.actor(async function untraced(_: unknown, ctx: ActorContext) {
      seen.push({ ...ctx.headers });
    });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      await new Job("untraced").enqueue();
      return worker.run();
    });
    expect(runner).toMatchObject({ succeeded: 1 });
    expect(seen).toEqual([{}]);
  });
});

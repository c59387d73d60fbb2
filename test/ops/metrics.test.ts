/**
 * Prometheus metrics after a known mix of jobs, scraped over HTTP from a running worker's
 * `/metrics`: exact counts per queue and actor, histograms' counts, in-flight back to zero and
 * the per-queue gauges sampled from the broker (and cached between scrapes).
 */
import { describe, expect, it } from "vitest";
import {
  Connection,
  InMemoryMessageBroker,
  Job,
  Queue,
  Repid,
  Worker,
  enqueueMany,
  silentLogger,
  type Hooks,
} from "../../src/index.js";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { prometheusMetrics } from "../../src/metrics.js";
import { HistogramFamily, ValueFamily } from "../../src/ops/metric-families.js";
import { waitFor } from "../helpers.js";
import { message } from "../brokers/contract.js";
import { describeRedis, testBroker } from "../brokers/redis-env.js";
import { get, samples, series } from "./http.js";

describe("Prometheus metrics (issue 11)", () => {
  it("counts a known mix of jobs exactly, served at a running worker's /metrics", async () => {
    const broker = new InMemoryMessageBroker();
    let counted = 0;
    const metrics = prometheusMetrics({ broker });
    const app = new Repid(new Connection(broker, { logger: silentLogger, hooks: [metrics.hooks] }));
    // Registered after the metrics' hooks: once it has seen every outcome, so have they.
    const done: Hooks = {
      onEvent(e) {
        if (e.type === "succeeded" || e.type === "retried" || e.type === "dead-lettered") counted++;
      },
    };
    const worker = new Worker({ health: { port: 0 }, hooks: [done], handleSignals: [] });
    const flakyRuns = new Map<string, number>();
    worker.actor(async function ok() {});
    worker.actor({ retryPolicy: () => 0 }, async function flaky(key: string) {
      const runs = (flakyRuns.get(key) ?? 0) + 1;
      flakyRuns.set(key, runs);
      if (runs === 1) throw new Error("first try fails");
    });
    worker.actor({ retryPolicy: () => 0 }, async function doomed() {
      throw new Error("always fails");
    });
    worker.actor(async function later() {});

    await app.magic(async () => {
      await new Queue().declare();
      await enqueueMany([
        new Job("ok"),
        new Job("ok"),
        new Job("ok"),
        new Job("flaky", { args: "a", retries: 3 }),
        new Job("flaky", { args: "b", retries: 3 }),
        new Job("doomed", { retries: 1 }),
        new Job("later", { deferBy: "1h" }),
      ]);
      const running = worker.run();
      try {
        // 3 ok + 2 flaky succeed, 2 flaky + 1 doomed retried, 1 doomed dead-lettered.
        await waitFor(() => counted === 9);
        const scraped = await get(worker.healthAddress, "/metrics");
        expect(scraped.status).toBe(200);
        expect(scraped.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
        const all = samples(scraped.text);
        const per = (name: string): Record<string, number> => series(all, `repid_${name}`);
        const jobs = (counts: Record<string, number>, name: string): Record<string, number> =>
          Object.fromEntries(
            Object.entries(counts).map(([actor, n]) => [
              `repid_${name}{queue="default",actor="${actor}"}`,
              n,
            ]),
          );
        // Series start at zero once a queue and actor are seen (here all at enqueue). The
        // histograms have one observation per attempt (run time) and per start (queue wait).
        const expected: Record<string, Record<string, number>> = {
          jobs_enqueued_total: { ok: 3, flaky: 2, doomed: 1, later: 1 },
          jobs_started_total: { ok: 3, flaky: 4, doomed: 2, later: 0 },
          jobs_succeeded_total: { ok: 3, flaky: 2, doomed: 0, later: 0 },
          jobs_failed_total: { ok: 0, flaky: 2, doomed: 2, later: 0 },
          jobs_retried_total: { ok: 0, flaky: 2, doomed: 1, later: 0 },
          jobs_dead_lettered_total: { ok: 0, flaky: 0, doomed: 1, later: 0 },
          jobs_recovered_total: { ok: 0, flaky: 0, doomed: 0, later: 0 },
          jobs_in_flight: { ok: 0, flaky: 0, doomed: 0, later: 0 },
          job_run_duration_seconds_count: { ok: 3, flaky: 4, doomed: 2, later: 0 },
          job_queue_wait_seconds_count: { ok: 3, flaky: 4, doomed: 2, later: 0 },
        };
        for (const [name, counts] of Object.entries(expected)) {
          expect(per(name), name).toEqual(jobs(counts, name));
        }
        expect(per("queue_messages")).toEqual({
          'repid_queue_messages{queue="default",state="ready"}': 0,
          'repid_queue_messages{queue="default",state="limited"}': 0,
          'repid_queue_messages{queue="default",state="delayed"}': 1,
          'repid_queue_messages{queue="default",state="running"}': 0,
          'repid_queue_messages{queue="default",state="dead"}': 1,
        });
      } finally {
        worker.stop();
        await running;
      }
    });
  });

  it("samples queue counts at most once per countsMaxAge, and a new queue at once", async () => {
    const broker = new InMemoryMessageBroker();
    let asked = 0;
    const counts = broker.counts.bind(broker);
    const metrics = prometheusMetrics({
      broker: {
        counts: (queue) => {
          asked++;
          return counts(queue);
        },
      },
      queues: ["default"],
      countsMaxAge: "1h",
    });
    const connection = new Connection(broker, { logger: silentLogger, hooks: [metrics.hooks] });
    await new Queue("default", { connection }).declare();
    await new Queue("other", { connection }).declare();
    const gauge = (text: string, queue: string): number | undefined =>
      samples(text).get(`repid_queue_messages{queue="${queue}",state="ready"}`);

    expect(gauge(await metrics.scrape(), "default")).toBe(0);
    await new Job("x", { connection }).enqueue();
    // Cached: the new message is not seen, and the broker is not asked again.
    expect(gauge(await metrics.scrape(), "default")).toBe(0);
    expect(asked).toBe(1);
    // A queue seen for the first time (here by an enqueue) makes the next scrape sample again.
    await new Job("y", { connection, queue: "other" }).enqueue();
    const text = await metrics.scrape();
    expect([gauge(text, "default"), gauge(text, "other")]).toEqual([1, 1]);
    expect(asked).toBe(3);
  });

  it("leaves out a queue whose counts fail, and counts the failure", async () => {
    const metrics = prometheusMetrics({
      prefix: "app_",
      broker: { counts: () => Promise.reject(new Error("down")) },
      queues: ["q"],
    });
    const all = samples(await metrics.scrape());
    expect(series(all, "app_queue_messages")).toEqual({});
    expect(series(all, "app_jobs_limited")).toEqual({});
    expect(all.get('app_queue_sample_errors_total{queue="q"}')).toBe(1);
  });

  it("prints its hot-path families exactly as prom-client's own metrics, and resets them", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const labels = { queue: "q", actor: "a" };
    const bounds = [0.01, 0.1, 1];
    const observed = [0.003, 0.01, 0.02, 0.02, 0.5, 400];

    const histogram = new HistogramFamily(ours, "h_seconds", "help h", bounds).child(labels);
    const counter = new ValueFamily(ours, "counter", "c_total", "help c").child(labels);
    const gauge = new ValueFamily(ours, "gauge", "g", "help g").child(labels);
    for (const value of observed) histogram.observe(value);
    counter.value += 3;
    gauge.value = 2;

    const labelNames = ["queue", "actor"];
    const promHistogram = new Histogram({
      name: "h_seconds",
      help: "help h",
      labelNames,
      buckets: bounds,
      registers: [theirs],
    });
    for (const value of observed) promHistogram.observe(labels, value);
    new Counter({ name: "c_total", help: "help c", labelNames, registers: [theirs] }).inc(
      labels,
      3,
    );
    new Gauge({ name: "g", help: "help g", labelNames, registers: [theirs] }).set(labels, 2);

    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(
      samples(await ours.metrics()).get('h_seconds_bucket{le="0.01",queue="q",actor="a"}'),
    ).toBe(2);

    ours.resetMetrics();
    const reset = samples(await ours.metrics());
    expect([...reset.values()].every((v) => v === 0)).toBe(true);
    expect(reset.size).toBe(samples(await theirs.metrics()).size);
  });

  it("a worker serves the metrics given in its health option, and answers 404 without any", async () => {
    const app = new Repid(new Connection(new InMemoryMessageBroker(), { logger: silentLogger }));
    const given = { contentType: "text/plain", scrape: () => Promise.resolve("given_total 7\n") };
    for (const [health, status, text] of [
      [{ port: 0 }, 404, undefined],
      [{ port: 0, metrics: given }, 200, "given_total 7\n"],
    ] as const) {
      const worker = new Worker({ health, handleSignals: [] });
      const running = app.magic(() => worker.run());
      try {
        await waitFor(() => worker.healthAddress !== undefined);
        const answer = await get(worker.healthAddress, "/metrics");
        expect(answer.status).toBe(status);
        if (text !== undefined) expect(answer.text).toBe(text);
      } finally {
        worker.stop();
        await running;
      }
    }
  });
});

describe("metrics of actors a worker does not run (issue 24)", () => {
  it('go under one actor="unknown" label, not a series set per name', async () => {
    const broker = new InMemoryMessageBroker();
    const metrics = prometheusMetrics({ broker });
    const app = new Repid(new Connection(broker, { logger: silentLogger, hooks: [metrics.hooks] }));
    const worker = new Worker({ messagesLimit: 31, logger: silentLogger, handleSignals: [] });
    worker.actor(async function known() {});
    // The producer is another service: its connection has no metrics.
    const producer = new Connection(broker, { logger: silentLogger });
    const names = Array.from({ length: 30 }, (_, i) => `typo_${i}`);
    await new Queue("default", { connection: producer }).declare();
    await enqueueMany([new Job("known"), ...names.map((name) => new Job(name))], {
      connection: producer,
    });
    await app.magic(() => worker.run());
    const text = await metrics.scrape();
    const started = text
      .split("\n")
      .filter((line) => /^repid_jobs_started_total\{/.test(line) && !line.endsWith(" 0"));
    expect(started.map((line) => /actor="([^"]+)"/.exec(line)?.[1]).sort()).toEqual([
      "known",
      "unknown",
    ]);
    const dead = text
      .split("\n")
      .find((line) => /^repid_jobs_dead_lettered_total\{.*actor="unknown"/.test(line));
    expect(dead).toMatch(/ 30$/);
    expect(text).not.toContain('actor="typo_');
  });
});

describeRedis("metrics of jobs waiting for a limit, on Redis (issue 26)", () => {
  it("queue_messages has state limited and jobs_limited counts them per actor, back to 0 when none wait", async () => {
    const { broker, cleanup } = testBroker();
    await broker.connect();
    try {
      await broker.declareQueue("crm");
      await broker.declareLimits!("crm", "sync", { concurrency: { limit: 1 } });
      await broker.enqueue([
        ...[1, 2, 3].map(() => message({ queue: "crm", topic: "sync" })),
        message({ queue: "crm", topic: "free" }),
      ]);
      const receive = () => broker.receive(["crm"], { max: 10, leaseMs: 60_000 });
      let running = await receive();
      expect(running.map((d) => d.message.topic).sort()).toEqual(["free", "sync"]);
      expect(await broker.counts("crm")).toMatchObject({ limited: 2, limitedBy: { sync: 2 } });

      const metrics = prometheusMetrics({ broker, queues: ["crm"], countsMaxAge: 0 });
      let text = await metrics.scrape();
      expect(text).toContain('repid_jobs_limited{queue="crm",actor="sync"} 2\n');
      expect(series(samples(text), "repid_jobs_limited")).toEqual({
        'repid_jobs_limited{queue="crm",actor="sync"}': 2,
      });
      expect(series(samples(text), "repid_queue_messages")).toEqual({
        'repid_queue_messages{queue="crm",state="ready"}': 0,
        'repid_queue_messages{queue="crm",state="limited"}': 2,
        'repid_queue_messages{queue="crm",state="delayed"}': 0,
        'repid_queue_messages{queue="crm",state="running"}': 2,
        'repid_queue_messages{queue="crm",state="dead"}': 0,
      });

      // One at a time, the rest run: nothing waits, and the actor's series stays, at 0.
      for (let left = 2; left > 0; left--) {
        await broker.settle(running.map((delivery) => ({ kind: "ack" as const, delivery })));
        running = await receive();
        expect(running).toHaveLength(1);
      }
      await broker.settle(running.map((delivery) => ({ kind: "ack" as const, delivery })));
      expect(await broker.counts("crm")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
      text = await metrics.scrape();
      expect(text).toContain('repid_jobs_limited{queue="crm",actor="sync"} 0\n');
      expect(samples(text).get('repid_queue_messages{queue="crm",state="limited"}')).toBe(0);
    } finally {
      await cleanup();
    }
  });
});

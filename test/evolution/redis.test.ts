/**
 * Registry evolution at run time, on a real Redis (issue 16): messages enqueued by a v1 producer
 * (its generated client puts schema 9b7766a8d576 in each message's headers) and run by
 *
 * - a v2 worker (a safe change): they pass v2's schema and run as is, counted as old-schema;
 * - a v3 worker without an upcaster: dead-lettered SCHEMA_MISMATCH naming both fingerprints;
 * - a v3 worker with its upcaster for v1: run with the upcast arguments (a v2 message, for which
 *   v3 declares no upcaster, is dead-lettered).
 *
 * Each test has its own key prefix; workers run one message at a time so the order is exact.
 */
import { afterEach, expect, it } from "vitest";
import { Connection } from "../../src/connection/connection.js";
import { prometheusMetrics } from "../../src/metrics.js";
import { Router } from "../../src/worker/router.js";
import { Worker } from "../../src/worker/worker.js";
import { describeRedis, testBroker } from "../brokers/redis-env.js";
import { recordingLogger } from "../helpers.js";
import * as v1 from "./fixtures/v1/registry.js";
import * as v2 from "./fixtures/v2/registry.js";
import * as v2Actors from "./fixtures/v2/actors.js";
import * as v3 from "./fixtures/v3/registry.js";
import * as v3Actors from "./fixtures/v3/actors.js";

const V1 = v1.registry.welcome.fingerprint;
const V2 = v2.registry.welcome.fingerprint;
const V3 = v3.registry.welcome.fingerprint;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  v2Actors.received.length = 0;
  v3Actors.received.length = 0;
});

/** A Redis broker under a fresh prefix with the fixtures' queues declared, a connection, metrics. */
async function setup() {
  const { broker, cleanup } = testBroker();
  cleanups.push(cleanup);
  const logger = recordingLogger();
  const connection = new Connection(broker, { logger });
  await connection.connect();
  for (const queue of ["evo-mail", "evo-media", "evo-thumbs"]) await broker.declareQueue(queue);
  const metrics = prometheusMetrics();
  return { broker, connection, logger, metrics };
}

type Setup = Awaited<ReturnType<typeof setup>>;

function worker(s: Setup, router: Router, registry: object, messagesLimit: number): Worker {
  return new Worker({
    routers: [router],
    registry: registry as never,
    connection: s.connection,
    logger: s.logger,
    hooks: [s.metrics.hooks],
    messagesLimit,
    concurrency: 1,
    prefetch: 0,
    handleSignals: [],
  });
}

/** The `jobs_old_schema_total` samples: `fingerprint handling value`, sorted. */
async function oldSchemaSamples(s: Setup): Promise<string[]> {
  const text = await s.metrics.scrape();
  return text
    .split("\n")
    .filter((l) => l.startsWith("repid_jobs_old_schema_total{"))
    .map((l) => {
      const fp = /fingerprint="(\w+)"/.exec(l)![1];
      const how = /handling="([\w-]+)"/.exec(l)![1];
      return `${fp} ${how} ${l.split(" ").pop()}`;
    })
    .sort();
}

function warnings(s: Setup): string[] {
  return s.logger.lines.filter((l) => l.level === "warn").map((l) => l.message);
}

describeRedis("registry evolution on Redis (issue 16)", () => {
  it("the three versions have distinct fingerprints for welcome", () => {
    expect(new Set([V1, V2, V3]).size).toBe(3);
    expect(V1).toBe("9b7766a8d576");
  });

  it("a v2 worker runs v1 messages (a safe change), counting them as an old schema", async () => {
    const s = await setup();
    const jobs = v1.createJobs(s.connection);
    await jobs.welcome.enqueue({ email: "ada@example.com", name: "Ada", plan: "pro" });
    await jobs.welcome.enqueue({ email: "bob@example.com", name: "Bob", plan: "free" });
    await jobs.resize.enqueue({ url: "https://img/1.png", width: 100 });

    const runner = await worker(s, v2Actors.router, v2.registry, 3).run();

    expect([runner.succeeded, runner.deadLettered]).toEqual([3, 0]);
    expect(v2Actors.received.filter((r) => r.actor === "welcome")).toEqual([
      { actor: "welcome", args: { email: "ada@example.com", name: "Ada", plan: "pro" } },
      { actor: "welcome", args: { email: "bob@example.com", name: "Bob", plan: "free" } },
    ]);
    expect(v2Actors.received.filter((r) => r.actor === "resize")).toHaveLength(1);
    // `resize` did not change (same fingerprint): only welcome's messages are of another schema.
    expect(warnings(s)).toEqual([
      `repid: actor "welcome" received a message of schema ${V1} (this worker's is ${V2}): it passed the current schema and ran as is; 1 message(s) of schema ${V1} seen by this worker`,
      `repid: this worker received 2 message(s) of actor "welcome" with schema ${V1} (its own is ${V2})`,
    ]);
    expect(await oldSchemaSamples(s)).toEqual([`${V1} validated 2`]);
  });

  it("a v3 worker without an upcaster dead-letters v1 messages as SCHEMA_MISMATCH, naming both fingerprints", async () => {
    const s = await setup();
    const jobs = v1.createJobs(s.connection);
    await jobs.welcome.enqueue({ email: "ada@example.com", name: "Ada", plan: "pro" });
    // Same plan as Ada's: the two fail alike, so the log summarises the second.
    await jobs.welcome.enqueue({ email: "bob@example.com", name: "Bob", plan: "pro" });
    const bare = new Router();
    bare.actor({ name: "welcome", queue: "evo-mail" }, v3Actors.welcome);

    const runner = await worker(s, bare, v3.registry, 2).run();

    expect([runner.succeeded, runner.deadLettered]).toEqual([0, 2]);
    expect(v3Actors.received).toEqual([]);
    const dead = await s.broker.deadLetters("evo-mail");
    const byName = (d: (typeof dead)[number]) =>
      (JSON.parse(d.message.payload!) as { name: string }).name;
    const sorted = [...dead].sort((a, b) => byName(a).localeCompare(byName(b)));
    expect(sorted.map((d) => [byName(d), d.error.code, d.error.name])).toEqual([
      ["Ada", "SCHEMA_MISMATCH", "SchemaMismatchError"],
      ["Bob", "SCHEMA_MISMATCH", "SchemaMismatchError"],
    ]);
    expect(sorted[0]!.message.headers).toEqual({ "repid-schema": V1 });
    const counts = sorted.map((d) => /\(message (\d) of schema/.exec(d.error.message)![1]).sort();
    expect(counts).toEqual(["1", "2"]);
    expect(sorted[0]!.error.message).toMatch(
      new RegExp(
        `^Message of actor "welcome" has schema ${V1}, this worker's is ${V3}: its arguments fail this worker's schema and the actor declares no upcaster for ${V1} \\(message \\d of schema ${V1} seen by this worker\\):\\n  - firstName: `,
      ),
    );
    // The default log line (error level) names both fingerprints; the repeat is summarised.
    const errors = s.logger.lines.filter((l) => l.level === "error").map((l) => l.message);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain(
      `[SCHEMA_MISMATCH] SchemaMismatchError: Message of actor "welcome" has schema ${V1}, this worker's is ${V3}`,
    );
    expect(errors[1]).toMatch(
      /^repid: 1 more job\(s\) of actor "welcome" were dead-lettered with the same error/,
    );
    expect(warnings(s)).toEqual([
      `repid: this worker received 2 message(s) of actor "welcome" with schema ${V1} (its own is ${V3})`,
    ]);
    expect(await oldSchemaSamples(s)).toEqual([`${V1} dead-lettered 2`]);
  });

  it("a v3 worker with its upcaster runs v1 messages with the upcast arguments; a v2 message, with no upcaster, is dead-lettered", async () => {
    const s = await setup();
    const old = v1.createJobs(s.connection);
    await old.welcome.enqueue({ email: "ada@example.com", name: "Ada", plan: "pro" });
    await old.welcome.enqueue({ email: "bob@example.com", name: "Bob", plan: "free" });
    await v2.createJobs(s.connection).welcome.enqueue({
      email: "cy@example.com",
      name: "Cy",
      plan: "team",
    });
    await v3.createJobs(s.connection).welcome.enqueue({
      email: "di@example.com",
      firstName: "Di",
      plan: "pro",
    });

    const runner = await worker(s, v3Actors.router, v3.registry, 4).run();

    expect([runner.succeeded, runner.deadLettered]).toEqual([3, 1]);
    expect(v3Actors.received).toEqual([
      {
        actor: "welcome",
        args: { email: "ada@example.com", firstName: "Ada", plan: "pro", locale: "en" },
      },
      {
        actor: "welcome",
        args: { email: "bob@example.com", firstName: "Bob", plan: "trial", locale: "en" },
      },
      { actor: "welcome", args: { email: "di@example.com", firstName: "Di", plan: "pro" } },
    ]);
    const dead = await s.broker.deadLetters("evo-mail");
    expect(dead.map((d) => [d.message.headers, d.error.code])).toEqual([
      [{ "repid-schema": V2 }, "SCHEMA_MISMATCH"],
    ]);
    expect(dead[0]!.error.message).toContain(`has schema ${V2}, this worker's is ${V3}`);
    expect(warnings(s)).toEqual([
      `repid: actor "welcome" received a message of schema ${V1} (this worker's is ${V3}): its upcaster turned it into the current arguments; 1 message(s) of schema ${V1} seen by this worker`,
      `repid: this worker received 1 message(s) of actor "welcome" with schema ${V2} (its own is ${V3})`,
      `repid: this worker received 2 message(s) of actor "welcome" with schema ${V1} (its own is ${V3})`,
    ]);
    expect(await oldSchemaSamples(s)).toEqual([`${V2} dead-lettered 1`, `${V1} upcast 2`]);
  });
});

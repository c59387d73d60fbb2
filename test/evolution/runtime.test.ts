/**
 * How a worker classifies a message by its schema header (issue 16), on the in-memory broker:
 * which failures are plain VALIDATION and which SCHEMA_MISMATCH, upcasters that throw or return
 * invalid arguments, the log's 1st/10th/100th rhythm, and the `upcast` option's checks.
 */
import { describe, expect, it } from "vitest";
import { enqueueActor } from "../../src/cli/operations.js";
import { Job } from "../../src/producer/job.js";
import { Queue } from "../../src/producer/queue.js";
import { defineRegistry } from "../../src/core/registry.js";
import { createClient } from "../../src/producer/registry-client.js";
import { Router, type Upcasters } from "../../src/worker/router.js";
import { Worker } from "../../src/worker/worker.js";
import { InvalidOptionError } from "../../src/core/errors.js";
import { z } from "zod";
import { memoryApp, recordingLogger } from "../helpers.js";

const CURRENT = "aaaaaaaaaaaa";
const OLD = "bbbbbbbbbbbb";

const registry = defineRegistry({
  greet: {
    name: "greet",
    property: "greet",
    queue: "evo",
    fingerprint: CURRENT,
    args: z.object({ who: z.string() }),
    result: z.string(),
  },
});

/** Runs `jobs` through a worker whose `greet` actor has `upcast`; returns what happened. */
async function run(jobs: Job[], upcast?: Upcasters<{ who: string }>) {
  const logger = recordingLogger();
  const { app, broker, connection } = memoryApp(logger);
  const ran: unknown[] = [];
  const router = new Router();
  router.actor(
    { name: "greet", queue: "evo", ...(upcast ? { upcast } : {}) },
    async (args: { who: string }) => {
      ran.push(args);
      return `hi ${args.who}`;
    },
  );
  const worker = new Worker({
    routers: [router],
    registry,
    connection,
    logger,
    messagesLimit: jobs.length,
    concurrency: 1,
    prefetch: 0,
    handleSignals: [],
  });
  await app.magic(async () => {
    await new Queue("evo").declare();
    for (const job of jobs) await job.enqueue();
  });
  const runner = await worker.run();
  const dead = (await broker.deadLetters("evo")).map((d) => d.error);
  return { runner, ran, dead, logger };
}

const job = (args: unknown, fingerprint?: string) =>
  new Job("greet", {
    queue: "evo",
    args,
    ...(fingerprint ? { headers: { "repid-schema": fingerprint } } : {}),
  });

describe("schema headers at run time (issue 16)", () => {
  it("the generated client's call carries the registry's fingerprint in the repid-schema header", async () => {
    const { app, broker, connection } = memoryApp();
    await app.magic(async () => {
      await new Queue("evo").declare();
      await createClient(registry, connection).greet.enqueue({ who: "a" });
    });
    const [delivery] = await broker.receive(["evo"], { max: 1, leaseMs: 1000 });
    expect(delivery!.message.headers).toEqual({ "repid-schema": CURRENT });
  });

  it("the repid CLI's enqueue sends the fingerprint too", async () => {
    const { app, broker, connection } = memoryApp();
    await app.magic(async () => {
      await new Queue("evo").declare();
      await enqueueActor(connection, registry, "greet", { who: "a" });
    });
    const [delivery] = await broker.receive(["evo"], { max: 1, leaseMs: 1000 });
    expect(delivery!.message.headers).toEqual({ "repid-schema": CURRENT });
  });

  it("a failing message of the current schema, or without the header, is VALIDATION; of another one, SCHEMA_MISMATCH", async () => {
    const { runner, ran, dead } = await run([
      job({ who: 1 }, CURRENT),
      job({ who: 2 }),
      job({ who: 3 }, OLD),
      job({ who: "ok" }, OLD),
    ]);
    expect(ran).toEqual([{ who: "ok" }]);
    expect([runner.succeeded, runner.deadLettered]).toEqual([1, 3]);
    expect(dead.map((e) => e.code).sort()).toEqual(["SCHEMA_MISMATCH", "VALIDATION", "VALIDATION"]);
  });

  it("an upcaster that throws, or returns arguments the schema rejects, dead-letters SCHEMA_MISMATCH with the reason", async () => {
    const thrown = await run([job({ name: "x" }, OLD)], {
      [OLD]: () => {
        throw new Error("cannot map");
      },
    });
    expect(thrown.dead.map((e) => [e.code, e.message.split(" (message")[0]])).toEqual([
      [
        "SCHEMA_MISMATCH",
        `Message of actor "greet" has schema ${OLD}, this worker's is ${CURRENT}: its upcaster threw Error: cannot map`,
      ],
    ]);
    const invalid = await run([job({ name: "x" }, OLD)], {
      [OLD]: () => ({ who: 5 }) as never,
    });
    expect(invalid.dead.map((e) => e.message.split(" (message")[0])).toEqual([
      `Message of actor "greet" has schema ${OLD}, this worker's is ${CURRENT}: the arguments its upcaster returned fail this worker's schema`,
    ]);
    expect(invalid.ran).toEqual([]);
  });

  it("an upcaster runs only for its own fingerprint, and may be async", async () => {
    const { ran, dead } = await run(
      [job({ name: "old" }, OLD), job({ who: "now" }, CURRENT), job({ name: "x" }, "cccccccccccc")],
      { [OLD]: async (old: { name: string }) => ({ who: old.name.toUpperCase() }) },
    );
    expect(ran).toEqual([{ who: "OLD" }, { who: "now" }]);
    expect(dead.map((e) => e.code)).toEqual(["SCHEMA_MISMATCH"]);
    expect(dead[0]!.message).toContain("has schema cccccccccccc");
  });

  it("logs the 1st and 10th message of an old schema, then a summary with the count", async () => {
    const jobs = Array.from({ length: 12 }, (_, i) => job({ who: `w${i}` }, OLD));
    const { logger, runner } = await run(jobs);
    expect(runner.succeeded).toBe(12);
    expect(logger.lines.filter((l) => l.level === "warn").map((l) => l.message)).toEqual([
      `repid: actor "greet" received a message of schema ${OLD} (this worker's is ${CURRENT}): it passed the current schema and ran as is; 1 message(s) of schema ${OLD} seen by this worker`,
      `repid: actor "greet" received a message of schema ${OLD} (this worker's is ${CURRENT}): it passed the current schema and ran as is; 10 message(s) of schema ${OLD} seen by this worker`,
      `repid: this worker received 12 message(s) of actor "greet" with schema ${OLD} (its own is ${CURRENT})`,
    ]);
  });

  it("the upcast option takes fingerprints mapped to functions", () => {
    const router = new Router();
    const fn = async (args: { who: string }) => args.who;
    expect(() =>
      router.actor({ name: "a", upcast: { "not-a-fingerprint": () => ({ who: "" }) } }, fn),
    ).toThrow(InvalidOptionError);
    expect(() => router.actor({ name: "b", upcast: { [OLD]: "nope" as never } }, fn)).toThrow(
      /must map to a function/,
    );
    router.actor({ name: "c", upcast: { [OLD]: () => ({ who: "" }) } }, fn);
    expect(router.actors.get("c")!.upcasts?.size).toBe(1);
  });
});

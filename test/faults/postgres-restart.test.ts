/**
 * Fault: a real restart of the PostgreSQL server (`pg_ctl restart`, `-m fast` and `-m immediate`,
 * the latter a crash-like stop followed by recovery from the WAL) while a worker runs jobs at
 * concurrency 20 and a producer keeps enqueueing. The server is a throwaway one of this test
 * (./postgres-server.ts); the shared Postgres is never touched.
 *
 * Every job the producer was told was enqueued runs to success (at least once), nothing is
 * dead-lettered, the worker never stops and carries on after the restart, and an idle worker is
 * woken afterwards by a notification (the safety sweep is a minute away), so its LISTEN
 * connection came back. Enqueues that fail during the outage are retried by the producer, as an
 * application would. Prints the time from the server being up again to the first job taken from
 * the restarted server being completed.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Connection, Job, Queue, RepidError, Worker, enqueueMany, silentLogger } from "repid";
import { PostgresMessageBroker } from "../../src/brokers/postgres/postgres-broker.js";
import { describeService } from "../brokers/service-env.js";
import { message } from "../brokers/contract.js";
import { uniqueSchema } from "../brokers/postgres-env.js";
import { postgresBinaries, startPostgres, type ThrowawayPostgres } from "./postgres-server.js";
import { recordingLogger, until } from "./redis-server.js";

const binaries = postgresBinaries();

describeService(
  {
    name: "PostgreSQL server (initdb, pg_ctl)",
    at: "/usr/lib/postgresql/*/bin",
    problem: "problem" in binaries ? binaries.problem : undefined,
    hint: "Install Debian's postgresql package (.ci/start-postgres.sh does when it is missing).",
  },
  "postgres broker across a Postgres server restart",
  () => {
    let server: ThrowawayPostgres;
    beforeAll(async () => {
      server = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });

    it("a receive made while the server is down waits for it and returns what is enqueued once it is back", async () => {
      const schema = uniqueSchema();
      const broker = new PostgresMessageBroker(server.url, {
        schema,
        logger: silentLogger,
        sweepMs: 60_000,
      });
      await broker.connect();
      await broker.declareQueue("default");
      try {
        await server.shutdown("fast");
        // Meets the outage at once (connections refused); before, it failed with ECONNREFUSED.
        const outcome = broker.receive(["default"], { max: 1, leaseMs: 60_000 }).then(
          (got) => got.map((d) => d.message.id),
          (error: unknown) => error,
        );
        await server.start();
        const [sent] = await broker.enqueue([message()]);
        expect(await outcome).toEqual([sent!.id]);
      } finally {
        await broker.disconnect();
      }
    });

    for (const mode of ["fast", "immediate"] as const) {
      it(
        `pg_ctl restart -m ${mode} under load: every enqueued job succeeds, none dead, the worker carries on and is woken by NOTIFY`,
        { timeout: 240_000 },
        async () => restartUnderLoad(server, mode),
      );
    }
  },
);

/** The server's URL with an application_name, so the test can find the broker's sessions. */
function named(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", name);
  return u.toString();
}

async function restartUnderLoad(
  server: ThrowawayPostgres,
  mode: "fast" | "immediate",
): Promise<void> {
  const schema = uniqueSchema();
  const workerName = `w_${schema}`;
  const logger = recordingLogger();
  const workerBroker = new PostgresMessageBroker(named(server.url, workerName), {
    schema,
    logger,
    // A receiver that waits for work sleeps a minute unless a notification wakes it.
    sweepMs: 60_000,
  });
  const producerBroker = new PostgresMessageBroker(named(server.url, `p_${schema}`), {
    schema,
    logger: silentLogger,
  });
  const workerConnection = new Connection(workerBroker, { logger });
  const producer = new Connection(producerBroker, { logger: silentLogger });
  await producer.connect();
  await workerConnection.connect();
  await new Queue("default", { connection: producer }).declare();

  /** Runs per job number, and when each run started and ended (local epoch ms). */
  const runs = new Map<number, number>();
  const ended: { i: number; startedAt: number; endedAt: number }[] = [];
  const worker = new Worker({
    connection: workerConnection,
    concurrency: 20,
    leaseTime: "5s",
    handleSignals: [],
  });
  worker.actor(async function tick(i: number) {
    const startedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2));
    runs.set(i, (runs.get(i) ?? 0) + 1);
    ended.push({ i, startedAt, endedAt: Date.now() });
  });

  // The producer: batches of 25 with fresh job numbers (fixed ids), each retried until the
  // broker says it is stored. `enqueued` holds what it was told was enqueued.
  const enqueued = new Set<number>();
  const enqueueErrors: unknown[] = [];
  let next = 0;
  let upAt = 0;
  let batchesAfterUp = 0;
  let producing = true;
  const batch = async (size: number): Promise<void> => {
    const numbers = Array.from({ length: size }, () => next++);
    for (;;) {
      try {
        await enqueueMany(
          numbers.map((i) => new Job("tick", { args: i, id: `job-${i}` })),
          { connection: producer },
        );
        break;
      } catch (error) {
        enqueueErrors.push(error);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (const i of numbers) enqueued.add(i);
    if (upAt > 0) batchesAfterUp++;
  };
  for (let k = 0; k < 40; k++) await batch(25);
  const producerDone = (async () => {
    // Paced (an application's trickle, not a flood) until the restart is well behind it.
    while (producing) {
      await batch(25);
      await new Promise((r) => setTimeout(r, 10));
      if (upAt > 0 && batchesAfterUp >= 20 && enqueued.size >= 3000) producing = false;
    }
  })();

  let workerEnded: unknown = "running";
  const running = worker.run().then(
    () => (workerEnded = "returned"),
    (error: unknown) => (workerEnded = error),
  );

  // Mid-way: the worker is busy and the producer is still enqueueing.
  await until(() => runs.size >= 1000, 60_000, "a first thousand jobs run");
  const doneBefore = runs.size;
  const restartAt = Date.now();
  upAt = await server.restart(mode);
  const restartMs = upAt - restartAt;

  await until(
    () => ended.some((e) => e.startedAt >= upAt),
    60_000,
    "a job taken from the restarted server completed",
  );
  const firstAfter = Math.min(...ended.filter((e) => e.startedAt >= upAt).map((e) => e.endedAt));
  await producerDone;
  try {
    await until(() => [...enqueued].every((i) => runs.has(i)), 120_000, "every enqueued job run");
  } catch (error) {
    const missing = [...enqueued].filter((i) => !runs.has(i));
    const admin = new pg.Client(server.url);
    await admin.connect();
    const rows = await admin.query(
      `SELECT id, state, holder, lease_until - ${schema}.now_ms() AS lease_left, stalls
         FROM ${schema}.messages ORDER BY seq LIMIT 20`,
    );
    const sessions = await admin.query(
      `SELECT application_name, state, query FROM pg_stat_activity WHERE datname = 'postgres'`,
    );
    const consumers = await admin.query(
      `SELECT name, expires_at - ${schema}.now_ms() AS left FROM ${schema}.consumers`,
    );
    await admin.end();
    console.log("DIAG", {
      missing: missing.length,
      first: missing.slice(0, 10),
      ran: runs.size,
      lastEnded: ended.at(-1),
      now: Date.now(),
      rows: rows.rows,
      sessions: sessions.rows,
      consumers: consumers.rows,
    });
    console.log(logger.lines.join("\n"));
    throw error;
  }
  const allRunAfterUpMs = Date.now() - upAt;
  await until(
    async () => {
      const c = await producerBroker.counts("default");
      return c.ready + c.delayed + c.running === 0;
    },
    60_000,
    "the queue empty",
  );
  expect(workerEnded).toBe("running");

  // Quiet now. The worker's LISTEN connection is back (a session of it listens), and a job
  // enqueued now wakes the idle worker through NOTIFY: its sweep is a minute away.
  const admin = new pg.Client(server.url);
  await admin.connect();
  try {
    await until(
      async () => {
        const { rows } = await admin.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
          [workerName],
        );
        return rows[0].n === 1;
      },
      30_000,
      "the worker's LISTEN session back",
    );
  } finally {
    await admin.end();
  }
  const late = next++;
  await enqueueMany([new Job("tick", { args: late, id: `job-${late}` })], {
    connection: producer,
  });
  enqueued.add(late);
  await until(() => runs.has(late), 20_000, "the idle worker woken by a notification");

  const counts = await producerBroker.counts("default");
  worker.stop();
  await running;
  await workerConnection.disconnect();
  await producer.disconnect();

  const missing = [...enqueued].filter((i) => !runs.has(i));
  const twice = [...runs.values()].filter((n) => n > 1).length;
  console.log(`postgres restart -m ${mode}:`, {
    enqueued: enqueued.size,
    ranDistinct: runs.size,
    ranMoreThanOnce: twice,
    doneBeforeRestart: doneBefore,
    restartMs,
    firstJobAfterUpMs: firstAfter - upAt,
    // Up to the lease time (5 s) when a take's reply was lost: its messages wait for it to end.
    allRunAfterUpMs,
    enqueueFailuresRetried: enqueueErrors.length,
    enqueueErrorCodes: [
      ...new Set(enqueueErrors.map((e) => (e as { pgCode?: string }).pgCode ?? (e as Error).name)),
    ],
    brokerLog: {
      warn: logger.lines.filter((l) => l.startsWith("warn")).length,
      error: logger.lines.filter((l) => l.startsWith("error")).length,
    },
    counts,
  });
  if (process.env.REPID_FAULT_LOG) {
    console.log(logger.lines.join("\n"));
    console.log(enqueueErrors.map(String).join("\n"));
  }
  expect(missing).toEqual([]);
  expect(runs.size).toBeGreaterThanOrEqual(enqueued.size);
  expect(counts).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
  expect(ended.filter((e) => e.startedAt >= upAt).length).toBeGreaterThan(0);
  for (const error of enqueueErrors) expect(error).toBeInstanceOf(RepidError);
  expect(workerEnded).toBe("returned");
}

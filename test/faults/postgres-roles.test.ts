/**
 * A role granted the broker's tables before migration 5 added `settings` (the dead-letter cap
 * `recover` reads) still connects and works: the write of its cap at connect is refused (42501)
 * and warned about, and stalled messages are dead-lettered under the default cap instead of
 * failing every take. On a throwaway server (./postgres-server.ts): roles are cluster-wide, and
 * the shared Postgres gets none.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PostgresMessageBroker } from "../../src/brokers/postgres/postgres-broker.js";
import { silentLogger } from "../../src/core/logger.js";
import { message, waitFor } from "../brokers/contract.js";
import { describeService } from "../brokers/service-env.js";
import { postgresBinaries, startPostgres, type ThrowawayPostgres } from "./postgres-server.js";
import { recordingLogger } from "./redis-server.js";

const binaries = postgresBinaries();

describeService(
  {
    name: "PostgreSQL server (initdb, pg_ctl)",
    at: "/usr/lib/postgresql/*/bin",
    problem: "problem" in binaries ? binaries.problem : undefined,
    hint: "Install Debian's postgresql package (.ci/start-postgres.sh does when it is missing).",
  },
  "postgres broker with a role granted the tables before the settings table",
  () => {
    let server: ThrowawayPostgres;
    beforeAll(async () => {
      server = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });

    it("connects with a warning and dead-letters stalled messages under the default cap", async () => {
      const owner = new PostgresMessageBroker(server.url, {
        schema: "repid",
        logger: silentLogger,
      });
      await owner.connect();
      await owner.declareQueue("default");
      await owner.disconnect();
      const admin = new pg.Client(server.url);
      await admin.connect();
      await admin.query(`CREATE ROLE app LOGIN;
        GRANT USAGE ON SCHEMA repid TO app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA repid TO app;
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA repid TO app;
        REVOKE ALL ON repid.settings FROM app;`);
      await admin.end();
      const url = new URL(server.url);
      url.username = "app";
      const logger = recordingLogger();
      const broker = new PostgresMessageBroker(url.toString(), {
        schema: "repid",
        migrate: false,
        maxDeadLetters: 1,
        maxStalls: 0,
        logger,
      });
      await broker.connect();
      try {
        expect(logger.lines.filter((l) => l.includes("dead-letter cap"))).toHaveLength(1);
        await broker.enqueue([message({ id: "a" }), message({ id: "b" })]);
        const got = await broker.receive(["default"], { max: 2, leaseMs: 1 });
        expect(got).toHaveLength(2);
        await waitFor(async () => (await broker.counts("default")).running === 0);
        expect(await broker.counts("default")).toEqual({
          ready: 0,
          delayed: 0,
          running: 0,
          dead: 2,
        });
      } finally {
        await broker.disconnect();
      }
    });
  },
);

/**
 * The Postgres broker's schema: created and migrated at connect, once, also when several brokers
 * connect to a new schema at the same moment (advisory lock); `repid migrate --postgres` does
 * the same from a deploy step, after which a broker with `migrate: false` connects, while one on
 * a schema never migrated is refused.
 */
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { runCli } from "../../src/cli/run.js";
import { PostgresBrokerError } from "../../src/brokers/postgres/pg-errors.js";
import { MIGRATIONS } from "../../src/brokers/postgres/migrations.js";
import { SCHEMA_VERSION } from "../../src/brokers/postgres/schema.js";
import {
  describePostgres,
  dropSchema,
  POSTGRES_URL,
  testBroker,
  uniqueSchema,
} from "./postgres-env.js";

const schemas: string[] = [];
afterEach(async () => {
  for (const s of schemas.splice(0)) await dropSchema(s);
});

async function migrationsOf(schema: string): Promise<number[]> {
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT version FROM ${schema}.migrations ORDER BY version`,
    );
    return rows.map((r: { version: number }) => r.version);
  } finally {
    await client.end();
  }
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
  });
  return { code, stdout, stderr };
}

describePostgres("postgres schema", () => {
  it("eight brokers connecting to a new schema at once apply each migration exactly once", async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const brokers = Array.from({ length: 8 }, () => testBroker({ schema }).broker);
    await Promise.all(brokers.map((b) => b.connect()));
    expect(await migrationsOf(schema)).toEqual(MIGRATIONS.map((m) => m.version));
    // Each works on the same tables.
    await brokers[0]!.declareQueue("default");
    expect(await brokers[7]!.queueExists("default")).toBe(true);
    await Promise.all(brokers.map((b) => b.disconnect()));
  });

  it("repid migrate creates the schema, then finds it current; brokers with migrate: false use it", async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const first = await cli("migrate", "--postgres", POSTGRES_URL, "--schema", schema);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain(`migrated to version ${SCHEMA_VERSION}`);
    const again = await cli("--json", "migrate", "--postgres", POSTGRES_URL, "--schema", schema);
    expect(JSON.parse(again.stdout)).toEqual({ schema, version: SCHEMA_VERSION, applied: [] });
    const { broker } = testBroker({ schema, migrate: false });
    await broker.connect();
    await broker.declareQueue("default");
    expect(await broker.queueExists("default")).toBe(true);
    await broker.disconnect();
  });

  it("a broker with migrate: false refuses a schema that was never migrated, creating nothing", async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const { broker } = testBroker({ schema, migrate: false });
    const error = await broker.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostgresBrokerError);
    expect((error as PostgresBrokerError).pgCode).toBe("SCHEMA_VERSION");
    const client = new pg.Client(POSTGRES_URL);
    await client.connect();
    const { rows } = await client.query(
      "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1",
      [schema],
    );
    await client.end();
    expect(rows).toEqual([]);
  });

  it("repid migrate without a URL is a usage error", async () => {
    const run = await cli("migrate");
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("--postgres");
  });
});

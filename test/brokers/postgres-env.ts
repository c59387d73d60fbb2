/**
 * Where the Postgres suites find their Postgres: `POSTGRES_URL` (default
 * postgres://root@127.0.0.1:5432/test). Each suite (or test) works in a schema of its own, with a
 * random name, dropped after it. Without a Postgres the suites are skipped loudly, and fail under
 * `CI=true` (see ./service-env.ts).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describeService } from "./service-env.js";
import { PostgresMessageBroker } from "../../src/brokers/postgres/postgres-broker.js";
import type { PostgresBrokerOptions } from "../../src/brokers/postgres/options.js";
import { silentLogger } from "../../src/core/logger.js";

export const POSTGRES_URL = process.env.POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

const problem = await probe();

/** True when a Postgres answered at POSTGRES_URL. */
export const postgresAvailable = problem === undefined;

/** `describe` for suites that need Postgres: skipped loudly without one, failing under CI. */
export function describePostgres(name: string, body: () => void): void {
  describeService(
    {
      name: "Postgres",
      at: POSTGRES_URL,
      problem,
      hint: "Start one (.ci/start-postgres.sh) or set POSTGRES_URL.",
    },
    name,
    body,
  );
}

/** A schema name no other test uses. */
export function uniqueSchema(): string {
  return `repid_test_${randomBytes(6).toString("hex")}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * A broker on its own schema (or `options.schema`), at `url`; `cleanup` disconnects and drops
 * the schema.
 */
export function testBroker(
  options: PostgresBrokerOptions = {},
  url = POSTGRES_URL,
): {
  broker: PostgresMessageBroker;
  schema: string;
  cleanup: () => Promise<void>;
} {
  const schema = options.schema ?? uniqueSchema();
  const broker = new PostgresMessageBroker(url, {
    logger: silentLogger,
    poolSize: 4,
    ...options,
    schema,
  });
  return {
    broker,
    schema,
    cleanup: async () => {
      await broker.disconnect();
      await dropSchema(schema);
    },
  };
}

/**
 * A new empty database for a test that runs code written for a whole database (the README's
 * blocks); returns its URL and a function that drops it.
 */
export async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `repid_scratch_${randomBytes(6).toString("hex")}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client(POSTGRES_URL);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

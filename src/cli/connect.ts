import { Connection } from "../connection/connection.js";
import { InvalidOptionError, PeerDependencyError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Writable } from "./output.js";

/** Where the CLI finds its broker. */
export interface BrokerChoice {
  /** `--redis`; falls back to `REDIS_URL`. */
  readonly redis?: string | undefined;
  /** `--prefix` of the Redis keys. @defaultValue "repid" */
  readonly prefix?: string | undefined;
  /** `--postgres`; falls back to `POSTGRES_URL` when no Redis is named. */
  readonly postgres?: string | undefined;
  /** `--schema` of the Postgres broker. @defaultValue "repid" */
  readonly schema?: string | undefined;
}

/**
 * The broker the options and environment name: `--postgres`, else `--redis`, else `REDIS_URL`,
 * else `POSTGRES_URL`.
 */
export function openBroker(
  choice: BrokerChoice,
  env: Readonly<Record<string, string | undefined>>,
  stderr: Writable,
): Promise<OpenedConnection> {
  const postgres =
    choice.postgres ??
    (choice.redis === undefined && !env.REDIS_URL ? env.POSTGRES_URL : undefined);
  return postgres ? openPostgres(postgres, choice.schema, stderr) : openRedis(choice, env, stderr);
}

/** Opens a Postgres connection (pg loads only here), connected. */
export async function openPostgres(
  url: string,
  schema: string | undefined,
  stderr: Writable,
): Promise<OpenedConnection> {
  const { PostgresMessageBroker } = await peer(
    "pg",
    "Postgres",
    () => import("../brokers/postgres/postgres-broker.js"),
  );
  const logger = stderrLogger(stderr);
  // An operator's command does not migrate: it works on the schema the workers made.
  const broker = new PostgresMessageBroker(url, {
    logger,
    migrate: false,
    poolSize: 2,
    ...(schema !== undefined ? { schema } : {}),
  });
  return connected(new Connection(broker, { logger }));
}

/** A connection the CLI opened (and closes), or one it was given (and leaves open). */
export interface OpenedConnection {
  readonly connection: Connection;
  close(): Promise<void>;
}

/** Warnings and errors of the broker to the CLI's stderr; the rest dropped. */
export function stderrLogger(stderr: Writable): Logger {
  const line = (level: string) => (message: string, meta?: Record<string, unknown>) =>
    void stderr.write(`repid: ${level}: ${message}${meta ? ` ${JSON.stringify(meta)}` : ""}\n`);
  return { debug: () => {}, info: () => {}, warn: line("warning"), error: line("error") };
}

/**
 * Opens a Redis connection from `--redis` or `REDIS_URL` (ioredis loads only here), connected.
 * Throws `InvalidOptionError` when neither names one.
 */
export async function openRedis(
  choice: BrokerChoice,
  env: Readonly<Record<string, string | undefined>>,
  stderr: Writable,
): Promise<OpenedConnection> {
  const url = choice.redis ?? env.REDIS_URL;
  if (!url) {
    throw new InvalidOptionError(
      "redis",
      "no broker: pass --redis <url> or --postgres <url>, or set REDIS_URL or POSTGRES_URL",
    );
  }
  const { RedisMessageBroker } = await peer(
    "ioredis",
    "Redis",
    () => import("../brokers/redis/redis-broker.js"),
  );
  const logger = stderrLogger(stderr);
  const broker = new RedisMessageBroker(url, {
    logger,
    ...(choice.prefix !== undefined ? { prefix: choice.prefix } : {}),
  });
  return connected(new Connection(broker, { logger }));
}

/** Connects `connection`; on failure closes what it opened and throws. */
async function connected(connection: Connection): Promise<OpenedConnection> {
  try {
    await connection.connect();
  } catch (error) {
    await connection.disconnect().catch(() => {});
    throw error;
  }
  return { connection, close: () => connection.disconnect() };
}

/** Loads a broker's module, or says which optional peer to install. */
function peer<T>(name: string, broker: string, load: () => Promise<T>): Promise<T> {
  return load().catch((error: unknown) => {
    throw new PeerDependencyError(
      name,
      `the ${broker} broker needs ${name}: npm install ${name} (${(error as Error).message})`,
    );
  });
}

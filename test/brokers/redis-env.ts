/**
 * Where the Redis suites find their Redis: `REDIS_URL` (default redis://127.0.0.1:6379). When
 * none answers, the suites are skipped with a loud message, except under `CI=true`, where they
 * fail instead (CI must never go green by silently skipping the Redis broker).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, beforeEach } from "vitest";
import { describeService } from "./service-env.js";
import {
  RedisMessageBroker,
  type RedisBrokerOptions,
} from "../../src/brokers/redis/redis-broker.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

async function probe(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.disconnect();
  }
}

const problem = await probe();

/** True when a Redis answered at REDIS_URL. */
export const redisAvailable = problem === undefined;

/** `describe` for suites that need Redis: skipped loudly without one, failing under CI. */
export function describeRedis(name: string, body: () => void): void {
  describeService(
    { name: "Redis", at: REDIS_URL, problem, hint: "Start one (redis-server) or set REDIS_URL." },
    name,
    body,
  );
}

/** A prefix no other test uses. */
export function uniquePrefix(): string {
  return `repid-test-${randomUUID()}`;
}

/** Every key under a prefix (SCAN, never KEYS). */
export async function keysWithPrefix(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== "0");
  return found;
}

/** Deletes every key under a prefix. */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  const keys = await keysWithPrefix(client, prefix);
  for (let i = 0; i < keys.length; i += 500) await client.unlink(...keys.slice(i, i + 500));
}

/** A plain client for tests to inspect and tamper with Redis directly. */
export function adminClient(): Redis {
  const client = new Redis(REDIS_URL, { lazyConnect: true });
  client.on("error", () => {});
  return client;
}

/** A broker under a fresh prefix, and a cleanup that deletes its keys and disconnects it. */
export function testBroker(options: RedisBrokerOptions = {}): {
  broker: RedisMessageBroker;
  prefix: string;
  cleanup: () => Promise<void>;
} {
  const prefix = options.prefix ?? uniquePrefix();
  const broker = new RedisMessageBroker(REDIS_URL, { ...options, prefix });
  return {
    broker,
    prefix,
    cleanup: async () => {
      await broker.disconnect();
      const admin = adminClient();
      try {
        await deletePrefix(admin, prefix);
      } finally {
        admin.disconnect();
      }
    },
  };
}

/**
 * For each test of the calling suite: a connected broker under a fresh prefix with queue
 * "default" declared, and an admin client; both closed (and the keys deleted) after it.
 */
export function brokerPerTest(): {
  readonly admin: Redis;
  readonly prefix: string;
  readonly broker: RedisMessageBroker;
} {
  let admin: Redis | undefined;
  let made: ReturnType<typeof testBroker> | undefined;
  beforeEach(async () => {
    admin = adminClient();
    made = testBroker();
    await made.broker.connect();
    await made.broker.declareQueue("default");
  });
  afterEach(async () => {
    await made?.cleanup();
    admin?.disconnect();
  });
  return {
    get admin() {
      return admin!;
    },
    get prefix() {
      return made!.prefix;
    },
    get broker() {
      return made!.broker;
    },
  };
}

import type { Redis } from "ioredis";
import type { Logger } from "../../core/logger.js";
import { isCluster, masters, type RedisClient } from "./cluster.js";
import { failureCode, RedisBrokerError } from "./redis-errors.js";

/** What the broker learned about the server at connect. */
export interface ServerFacts {
  /** Redis 7 or later: scripts may carry flags (allow-oom). */
  readonly scriptFlags: boolean;
  /** This user may PUBLISH on the result channels (ACL channel permissions). */
  readonly canPublish: boolean;
  /** A Redis Cluster of Redis 7 or later: results are announced with sharded pub/sub. */
  readonly sharded: boolean;
}

/**
 * Connects an owned client and fails fast with Redis's own error: a wrong password reads
 * `WRONGPASS`, a missing one `NOAUTH`, a closed port `ECONNREFUSED`, not "Connection is closed.".
 * On failure the client is disconnected, so nothing keeps reconnecting behind the caller's back.
 */
export async function connectClient(client: RedisClient, timeoutMs: number): Promise<void> {
  const errors = watchErrors(client);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            errors.last() ??
              new RedisBrokerError("CONNECT_TIMEOUT", `no answer within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      const fatal = (error: Error): void => {
        const code = failureCode(error);
        // Retrying cannot fix these: say so now instead of after every retry.
        if (["WRONGPASS", "NOAUTH", "NOPERM", "ECONNREFUSED", "ENOTFOUND"].includes(code))
          reject(error);
      };
      client.on("error", fatal);
      client.connect().then(resolve, (error: unknown) => reject(errors.last() ?? error));
      timer.unref?.();
      // `fatal` stays attached only while connecting.
      const detach = (): void => void client.off("error", fatal);
      client.once("ready", detach);
      client.once("end", detach);
    });
  } catch (error) {
    client.disconnect();
    const cause = error instanceof Error ? error : new Error(String(error));
    throw new RedisBrokerError(
      failureCode(cause),
      `Redis broker could not connect: ${cause.message}`,
      { cause },
    );
  } finally {
    clearTimeout(timer);
    errors.stop();
  }
}

/**
 * Waits until a client the broker was given (and does not own) is ready: a lazy one is
 * connected, one still connecting or reconnecting is waited for, up to `timeoutMs`. Throws a
 * `RedisBrokerError` naming the state it stayed in and the last error it reported.
 */
export async function untilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return;
  if (client.status === "end" || client.status === "close") {
    throw new RedisBrokerError(
      "CONNECTION_CLOSED",
      `the Redis client given to the broker is closed (status "${client.status}"); pass an open or lazy client`,
    );
  }
  const errors = watchErrors(client);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("ready", resolve);
      timer = setTimeout(() => {
        client.off("ready", resolve);
        const last = errors.last();
        reject(
          new RedisBrokerError(
            last ? failureCode(last) : "CONNECT_TIMEOUT",
            `the Redis client given to the broker was not ready within ${timeoutMs} ms (status "${client.status}"${last ? `, last error: ${last.message}` : ""})`,
            { cause: last },
          ),
        );
      }, timeoutMs);
      timer.unref?.();
      if (client.status === "wait") client.connect().catch(() => {});
    });
  } finally {
    clearTimeout(timer);
    errors.stop();
  }
}

/** The last error a client reports until `stop()` (ioredis tells connect failures as events). */
function watchErrors(client: RedisClient): { last(): Error | undefined; stop(): void } {
  let last: Error | undefined;
  const onError = (error: Error): void => {
    last = error;
  };
  client.on("error", onError);
  return { last: () => last, stop: () => void client.off("error", onError) };
}

/**
 * Reads what the broker needs to know about the server, and says loudly what will go wrong:
 * an eviction policy other than `noeviction` (Redis may then drop queues and messages; refused
 * instead when `refuseEviction`), and a user that may not PUBLISH (result waiters then read).
 */
export async function checkServer(
  client: RedisClient,
  probeChannel: string,
  logger: Logger,
  refuseEviction: boolean,
): Promise<ServerFacts> {
  if (!isCluster(client))
    return { ...(await checkNode(client, probeChannel, logger, refuseEviction)), sharded: false };
  // A cluster: every master is asked (each has its own eviction policy and version).
  const nodes = masters(client);
  if (nodes.length === 0)
    throw new RedisBrokerError("CLUSTERDOWN", "the cluster client knows no master");
  const facts = await Promise.all(
    nodes.map((node) => checkNode(node, probeChannel, logger, refuseEviction)),
  );
  const scriptFlags = facts.every((f) => f.scriptFlags);
  return { scriptFlags, canPublish: facts.every((f) => f.canPublish), sharded: scriptFlags };
}

async function checkNode(
  client: Redis,
  probeChannel: string,
  logger: Logger,
  refuseEviction: boolean,
): Promise<Omit<ServerFacts, "sharded">> {
  const pipeline = client.pipeline();
  pipeline.info("server");
  pipeline.info("memory");
  pipeline.publish(probeChannel, "");
  const [server, memory, publish] = (await pipeline.exec()) ?? [];
  const version = /redis_version:(\d+)/.exec(String(server?.[1] ?? ""))?.[1];
  const scriptFlags = version === undefined || Number(version) >= 7;
  if (memory?.[0]) {
    logger.warn(
      `repid redis: could not read maxmemory-policy (${memory[0].message}); make sure it is noeviction`,
    );
  } else {
    const policy = /maxmemory_policy:(\S+)/.exec(String(memory?.[1] ?? ""))?.[1];
    if (policy !== undefined && policy !== "noeviction") {
      const text = `Redis maxmemory-policy is "${policy}": when memory runs out Redis will evict queue keys and message bodies, losing jobs (they are dead-lettered with code EVICTED where noticed). Set maxmemory-policy noeviction for the broker's Redis.`;
      if (refuseEviction) throw new RedisBrokerError("EVICTION_POLICY", text);
      logger.error(`repid redis: WARNING ${text}`, { policy });
    }
  }
  const canPublish = !publish?.[0];
  if (!canPublish) {
    logger.warn(
      `repid redis: this Redis user may not PUBLISH on "${probeChannel}" (${publish![0]!.message}): results are still stored, but waiters learn of them by reading the result keys at intervals. Grant the user the &<prefix>:* channels to have them pushed.`,
      { error: publish![0]!.message },
    );
  }
  return { scriptFlags, canPublish };
}

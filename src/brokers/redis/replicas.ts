import type { Redis } from "ioredis";
import { isCluster, keySlot, masterFor, type RedisClient } from "./cluster.js";
import { RedisBrokerError } from "./redis-errors.js";

/** How many replicas must acknowledge an enqueue, and for how long to wait for them. */
export interface ReplicaAcks {
  /** Replicas of the master written to that must have the new messages. */
  readonly replicas: number;
  /** Longest wait for them, in ms. @defaultValue 1000 */
  readonly timeoutMs?: number;
}

/**
 * Redis `WAIT` after an enqueue: blocks until `replicas` replicas have every write made so far
 * on the connection the enqueue went through. On a cluster that is the cluster client's own
 * connection to the master serving each queue's slot (ioredis keeps one per node), so WAIT is
 * sent there, once per master written to. Fewer acknowledgements than asked within the time
 * fail with `NOT_REPLICATED`.
 *
 * Redis's replication stays asynchronous: WAIT does not make a write durable, it says that the
 * replicas received it. A failover promotes one of the replicas, so an enqueue acknowledged by
 * all of a master's replicas survives its master's death.
 */
export async function waitForReplicas(
  client: RedisClient,
  keys: readonly string[],
  acks: ReplicaAcks,
): Promise<void> {
  const timeoutMs = Math.max(1, Math.ceil(acks.timeoutMs ?? 1000));
  let nodes: Redis[];
  if (isCluster(client)) {
    const bySlot = new Map<number, string>();
    for (const key of keys) bySlot.set(keySlot(key), key);
    const found = new Set<Redis>();
    for (const key of bySlot.values()) {
      const node = masterFor(client, key);
      if (!node) {
        throw new RedisBrokerError(
          "NOT_REPLICATED",
          `Redis broker could not tell which master holds "${key}" to wait for its replicas`,
        );
      }
      found.add(node);
    }
    nodes = [...found];
  } else {
    nodes = [client];
  }
  await Promise.all(
    nodes.map(async (node) => {
      let acked: number;
      try {
        acked = await node.wait(acks.replicas, timeoutMs);
      } catch (error) {
        throw new RedisBrokerError(
          "NOT_REPLICATED",
          `Redis broker could not wait for replicas: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      if (acked < acks.replicas) {
        throw new RedisBrokerError(
          "NOT_REPLICATED",
          `Redis broker: the enqueue was stored on the master but only ${acked} of ${acks.replicas} replica(s) acknowledged it within ${timeoutMs} ms; it may be lost if that master fails now (enqueueing again with the same ids adds nothing twice)`,
        );
      }
    }),
  );
}

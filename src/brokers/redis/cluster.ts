import { Cluster, type Redis } from "ioredis";

/*
 * Redis Cluster support shared by the broker's parts. Every key of one queue carries the queue's
 * hash tag (`<prefix>:{<queue>}:...`), so one script call always names keys of one slot; what
 * spans queues (a receive round over several queues, a heartbeat, a peek) is split here by slot,
 * since a cluster refuses a script, a pipeline or a BLPOP whose keys live in several slots.
 */

/** The client the broker runs commands on: one Redis, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster || (client as { isCluster?: unknown }).isCluster === true;
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** The cluster slot of a key (CRC16/XMODEM of its hash tag, or of the whole key), 0..16383. */
export function keySlot(key: string): number {
  let part = key;
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) part = key.slice(open + 1, close);
  }
  const bytes = Buffer.from(part, "utf8");
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc & 0x3fff;
}

/** Groups item positions by the slot of each item's key, in first-seen order. */
export function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): number[][] {
  const groups = new Map<number, number[]>();
  items.forEach((item, index) => {
    const slot = keySlot(keyOf(item));
    let group = groups.get(slot);
    if (!group) groups.set(slot, (group = []));
    group.push(index);
  });
  return [...groups.values()];
}

/** The node key (`host:port`) of the master serving a slot, as the client last learned it. */
export function masterKeyOf(cluster: Cluster, slot: number): string | undefined {
  const slots = (cluster as unknown as { slots: (string[] | undefined)[] }).slots;
  return slots[slot]?.[0];
}

/** The connections to every master (one Redis); for one Redis, that Redis. */
export function masters(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes("master") : [client];
}

/** The client's connection to the master serving `key`'s slot, when known. */
export function masterFor(cluster: Cluster, key: string): Redis | undefined {
  const nodeKey = masterKeyOf(cluster, keySlot(key));
  if (nodeKey === undefined) return undefined;
  return cluster.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === nodeKey);
}

/** Asks the cluster client to read the slot map again (after a MOVED or a dead node). */
export function refreshSlots(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => {
    try {
      (cluster as unknown as { refreshSlotsCache(cb: () => void): void }).refreshSlotsCache(() =>
        resolve(),
      );
    } catch {
      resolve();
    }
  });
}

/** Redis's redirections and cluster states: the command may succeed on the right node later. */
export function isClusterRedirect(error: Error): boolean {
  return /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|READONLY|MASTERDOWN|LOADING)\b/.test(error.message);
}

/**
 * `items` in chunks of at most `size`, in order; on a cluster, each chunk's items also share the
 * slot of their key (a script's keys must).
 */
export function chunkBySlot<T>(
  client: RedisClient,
  items: readonly T[],
  size: number,
  keyOf: (item: T) => string,
): T[][] {
  const chunks: T[][] = [];
  const groups = isCluster(client) ? groupBySlot(items, keyOf) : [items.map((_, i) => i)];
  for (const group of groups) {
    for (let i = 0; i < group.length; i += size)
      chunks.push(group.slice(i, i + size).map((index) => items[index]!));
  }
  return chunks;
}

import { Redis, type Cluster } from "ioredis";
import type { Logger } from "../../core/logger.js";
import { BlockingPool, POLL_MS, sleep, type Follow, type WaitOutcome } from "./blocking-pool.js";
import { groupBySlot, isClusterRedirect, keySlot, masterKeyOf, refreshSlots } from "./cluster.js";

/**
 * Waits over several slots hold one BLPOP each, at most this many; past it, idle receives poll
 * every POLL_MS instead (a worker reading hundreds of queues spread over a cluster would
 * otherwise hold hundreds of blocking connections).
 */
export const MAX_SLOT_WAITS = 32;

/**
 * Blocking waits on a Redis Cluster. BLPOP over notify lists of several queues is refused by a
 * cluster when the lists sit in different slots, so a wait is split by slot: each slot's lists
 * are watched by one BLPOP on a plain connection to the master serving that slot (a
 * `BlockingPool` per master), all at once; the first to wake (or fail) ends the others early
 * with CLIENT UNBLOCK on their own node, and their connections are kept for the next wait. With
 * one slot (one queue, or queues sharing a hash tag) this is exactly the single-node wait.
 *
 * The master of a slot is read from the cluster client's slot map at each wait, so after a
 * failover the next wait goes to the promoted replica; a redirection (MOVED, CLUSTERDOWN) makes
 * the client read the slot map again.
 */
export class ClusterBlocking {
  readonly #cluster: Cluster;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #connectTimeoutMs: number;
  readonly #pools = new Map<string, BlockingPool>();
  readonly #unblockers = new Map<string, Redis>();
  #closed = false;

  constructor(cluster: Cluster, name: string, logger: Logger, connectTimeoutMs: number) {
    this.#cluster = cluster;
    this.#name = name;
    this.#logger = logger;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** Never known impossible as a whole: each master's pool falls back to polling on its own. */
  readonly polling = false;

  /** As `BlockingPool.wait`; `follow` travels behind the BLPOP when the keys share one slot. */
  async wait(
    keys: readonly string[],
    timeoutMs: number,
    signals: readonly AbortSignal[],
    extra: { readonly follow?: Follow } = {},
  ): Promise<WaitOutcome> {
    if (this.#closed || timeoutMs <= 0 || signals.some((s) => s.aborted)) return {};
    const groups = groupBySlot(keys, (k) => k).map((g) => g.map((i) => keys[i]!));
    const nodes = groups.map((g) => masterKeyOf(this.#cluster, keySlot(g[0]!)));
    if (groups.length > MAX_SLOT_WAITS || nodes.some((n) => n === undefined)) {
      if (nodes.some((n) => n === undefined)) void refreshSlots(this.#cluster);
      await sleep(Math.min(timeoutMs, POLL_MS), signals);
      return {};
    }
    if (groups.length === 1)
      return this.#one(nodes[0]!, groups[0]!, timeoutMs, signals, { follow: extra.follow });
    const cut = new AbortController();
    let first: WaitOutcome | undefined;
    await Promise.all(
      groups.map(async (group, i) => {
        const outcome = await this.#one(nodes[i]!, group, timeoutMs, signals, { cut: cut.signal });
        if (first === undefined && (outcome.woke !== undefined || outcome.failed)) {
          first = outcome;
          cut.abort();
        } else if (outcome.woke !== undefined) {
          // A wait being cut short took a token all the same (pushed just before the unblock):
          // give it back, or the next wait would sleep through that wake-up.
          await this.#cluster.rpush(outcome.woke, "1").catch(() => {});
        }
      }),
    );
    return first ?? {};
  }

  close(): void {
    this.#closed = true;
    for (const pool of this.#pools.values()) pool.close();
    for (const conn of this.#unblockers.values()) conn.disconnect();
    this.#pools.clear();
    this.#unblockers.clear();
  }

  reopen(): void {
    this.#closed = false;
  }

  async #one(
    node: string,
    keys: readonly string[],
    timeoutMs: number,
    signals: readonly AbortSignal[],
    extra: { readonly follow?: Follow; readonly cut?: AbortSignal },
  ): Promise<WaitOutcome> {
    const outcome = await this.#pool(node).wait(keys, timeoutMs, signals, extra);
    if (outcome.failed && isClusterRedirect(outcome.failed)) {
      // The slot moved (a failover, a resharding): the next wait goes where the map now says.
      await refreshSlots(this.#cluster);
      return {};
    }
    return outcome;
  }

  #pool(node: string): BlockingPool {
    let pool = this.#pools.get(node);
    if (pool) return pool;
    pool = new BlockingPool(
      () => this.#connect(node, "blocking", null),
      async (id) => Number(await this.#unblocker(node).client("UNBLOCK", id)),
      this.#logger,
      this.#connectTimeoutMs,
    );
    this.#pools.set(node, pool);
    return pool;
  }

  #unblocker(node: string): Redis {
    let conn = this.#unblockers.get(node);
    if (!conn) {
      conn = this.#connect(node, "unblock", 1);
      conn.on("error", () => {});
      this.#unblockers.set(node, conn);
    }
    return conn;
  }

  #connect(node: string, role: string, maxRetriesPerRequest: number | null): Redis {
    const at = node.lastIndexOf(":");
    const conn = new Redis({
      ...this.#cluster.options.redisOptions,
      host: node.slice(0, at),
      port: Number(node.slice(at + 1)),
      lazyConnect: true,
      enableOfflineQueue: true,
      maxRetriesPerRequest,
      connectTimeout: this.#connectTimeoutMs,
      connectionName: `${this.#name}:${role}`,
    });
    conn.on("error", (error: Error) =>
      this.#logger.debug(`repid redis ${role} connection to ${node}: ${error.message}`, {
        node,
        error: error.message,
      }),
    );
    return conn;
  }
}

import { QueueNotDeclaredError } from "../../core/errors.js";
import type {
  BrokerAdmin,
  CancelMode,
  CancelOutcome,
  JobView,
  MessageState,
  Page,
  PageOptions,
  QueueInfo,
} from "../admin.js";
import type { HeldBy, QueueCounts } from "../broker.js";
import type { ChainableCommander as Pipeline } from "ioredis";
import { masters, type RedisClient } from "./cluster.js";
import { decodeDeadLetter, decodeMessage } from "./codec.js";
import type { KeySpace, QueueKeys } from "./connection.js";
import { isDataError } from "./redis-errors.js";
import { scriptCall, type ScriptCall } from "./scripts.js";

/** What the admin needs from the Redis broker. */
export interface RedisAdminDeps {
  readonly client: RedisClient;
  readonly keys: KeySpace;
  run(what: string, call: ScriptCall): Promise<unknown>;
  call<T>(what: string, fn: () => Promise<T>): Promise<T>;
  counts(queue: string): Promise<QueueCounts>;
}

const DEFAULT_LIMIT = 50;
const NO_COUNTS: QueueCounts = Object.freeze({ ready: 0, delayed: 0, running: 0, dead: 0 });

/** The names of the declared queues under `prefix`, sorted (SCAN on every master). */
export async function queueNames(client: RedisClient, prefix: string): Promise<string[]> {
  const pattern = `${prefix}:{*}:declared`;
  const names = new Set<string>();
  for (const node of masters(client)) {
    let cursor = "0";
    do {
      const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      for (const key of found)
        names.add(key.slice(prefix.length + 2, key.length - "}:declared".length));
    } while (cursor !== "0");
  }
  return [...names].sort();
}

/**
 * `BrokerAdmin` on Redis. Listings page with ZRANGE/LRANGE offsets (no whole-queue loads);
 * lookups, cancellation and dead-letter moves are one script each, atomic per queue. The pause
 * flag and cancel marks live in the queue's clock hash, which every consumer-side script already
 * receives, so they cost the hot path nothing new.
 */
export class RedisAdmin implements BrokerAdmin {
  readonly #d: RedisAdminDeps;

  constructor(deps: RedisAdminDeps) {
    this.#d = deps;
  }

  async queues(): Promise<QueueInfo[]> {
    const sorted = await this.#d.call("list queues", () =>
      queueNames(this.#d.client, this.#d.keys.prefix),
    );
    return Promise.all(
      sorted.map(async (name): Promise<QueueInfo> => {
        try {
          return { name, paused: await this.#paused(name), counts: await this.#d.counts(name) };
        } catch (error) {
          if (!isDataError(error)) throw error;
          const problem = error instanceof Error ? error.message : String(error);
          return { name, paused: false, counts: NO_COUNTS, problem };
        }
      }),
    );
  }

  async jobs(
    queue: string,
    state: MessageState,
    options: PageOptions = {},
  ): Promise<Page<JobView>> {
    await this.#declared(queue);
    const k = this.#d.keys.queue(queue);
    const start = options.cursor ? Math.max(0, Number(options.cursor) || 0) : 0;
    const limit = Math.max(1, options.limit ?? DEFAULT_LIMIT);
    const { client } = this.#d;
    // One item more than asked tells whether another page follows.
    const stop = start + limit;
    let items: JobView[];
    if (state === "dead") {
      await this.#d.counts(queue); // housekeeping first: ended leases past maxStalls are dead
      const raw = await this.#d.call("list dead letters", () => client.lrange(k.dead, start, stop));
      items = raw.map((entry) => {
        const d = decodeDeadLetter(queue, entry);
        return { message: d.message, state: "dead", error: d.error, failedAt: d.failedAt };
      });
    } else {
      const ids = await this.#d.call("list jobs", () =>
        state === "ready"
          ? readyIds(client, k, start, stop)
          : client.zrange(state === "delayed" ? k.delayed : k.running, String(start), String(stop)),
      );
      items = [];
      const seen = new Set<string>();
      for (const id of ids) {
        const view = seen.has(id) ? undefined : await this.job(queue, id);
        seen.add(id);
        if (view && view.state === state) items.push(view);
      }
    }
    const more = items.length > limit;
    const page = more ? items.slice(0, limit) : items;
    return more ? { items: page, next: String(start + limit) } : { items: page };
  }

  async job(queue: string, id: string): Promise<JobView | undefined> {
    const k = this.#d.keys.queue(queue);
    const reply = (await this.#d.run(
      "look up job",
      scriptCall("admin-job", k.state, [id]),
    )) as string[];
    if (reply.length === 0) return undefined;
    if (reply[0] === "dead") {
      const d = decodeDeadLetter(queue, reply[1]!);
      return { message: d.message, state: "dead", error: d.error, failedAt: d.failedAt };
    }
    const [state, stored, leaseUntil, cancel, held, key, max] = reply as [
      MessageState,
      string,
      string,
      string,
      HeldBy["limit"] | undefined,
      string | undefined,
      number | undefined,
    ];
    const message = decodeMessage(queue, id, stored);
    if (!message) return undefined;
    return {
      message,
      state,
      ...(state === "running" && leaseUntil !== "" ? { leaseUntil: Number(leaseUntil) } : {}),
      ...(state === "running" && cancel !== "" ? { cancelling: true } : {}),
      ...(held ? { heldBy: { limit: held, key: key ?? "", max: Number(max ?? 0) } } : {}),
    };
  }

  async cancel(queue: string, id: string, mode: CancelMode = "dead"): Promise<CancelOutcome> {
    const k = this.#d.keys.queue(queue);
    return (await this.#d.run(
      "cancel job",
      scriptCall("admin-cancel", k.state, [id, mode]),
    )) as CancelOutcome;
  }

  replay(queue: string, ids?: readonly string[]): Promise<number> {
    return this.#dead("replay", queue, ids);
  }

  deleteDead(queue: string, ids?: readonly string[]): Promise<number> {
    return this.#dead("delete", queue, ids);
  }

  async pause(queue: string): Promise<void> {
    await this.#declared(queue);
    const k = this.#d.keys.queue(queue);
    await this.#d.call("pause queue", () => this.#d.client.hset(k.clock, "paused", "1"));
  }

  async resume(queue: string): Promise<void> {
    await this.#declared(queue);
    const k = this.#d.keys.queue(queue);
    await this.#d.call("resume queue", async () => {
      await this.#d.client.hdel(k.clock, "paused");
      // Wake blocked consumers: the queue may hold ready messages nobody was told about.
      await this.#d.client.rpush(k.notify, "1");
    });
  }

  async #dead(op: "replay" | "delete", queue: string, ids?: readonly string[]): Promise<number> {
    await this.#declared(queue);
    if (ids && ids.length === 0) return 0;
    const k = this.#d.keys.queue(queue);
    return (await this.#d.run(
      `${op} dead letters`,
      scriptCall("admin-dead", [...k.state, k.seq], [op, ...(ids ? ["", ...ids] : ["*"])]),
    )) as number;
  }

  async #paused(queue: string): Promise<boolean> {
    const k = this.#d.keys.queue(queue);
    return (
      (await this.#d.call("read pause flag", () => this.#d.client.hget(k.clock, "paused"))) === "1"
    );
  }

  async #declared(queue: string): Promise<void> {
    const k = this.#d.keys.queue(queue);
    const exists = await this.#d.call("check queue", () => this.#d.client.exists(k.declared));
    if (exists !== 1) throw new QueueNotDeclaredError(queue);
  }
}

/** Ready messages by priority: 2^44, as in scripts/common.lua. */
const PRIO_UNIT = 17592186044416;

/**
 * Ids of ready messages `start..stop` (inclusive) in the order consumers take them, priority by
 * priority: within one, those back at an earlier place (`ready`) come before the fresh list.
 * After them come the messages that limits hold (parked, see scripts/limits.lua), group by group
 * in the order of the groups' names, each group's in the order it lets them go.
 * Voided list entries (see common.lua) are among them; the caller drops what is not ready.
 */
async function readyIds(
  client: RedisClient,
  k: QueueKeys,
  start: number,
  stop: number,
): Promise<string[]> {
  const base = k.msg.slice(0, -"msg".length);
  const groups = ((await client.smembers(`${base}gparked`)) as string[]).sort();
  type Segment = { size?: number; read: (p: Pipeline, from: number, to: number) => void };
  const segments: Segment[] = [];
  const sizes = client.pipeline();
  for (let p = 0; p < 3; p++) {
    const min = p * PRIO_UNIT;
    const max = `(${(p + 1) * PRIO_UNIT}`;
    sizes.zcount(k.ready, min, max);
    segments.push({
      read: (r, from, to) => r.zrangebyscore(k.ready, min, max, "LIMIT", from, to - from + 1),
    });
    sizes.llen(k.fresh[p]!);
    segments.push({ read: (r, from, to) => r.lrange(k.fresh[p]!, from, to) });
  }
  for (const group of groups) {
    const key = `${base}gq:${group}`;
    sizes.zcard(key);
    segments.push({ read: (r, from, to) => r.zrange(key, String(from), String(to)) });
  }
  ((await sizes.exec()) ?? []).forEach(([error, n], i) => {
    if (error) throw error;
    segments[i]!.size = Number(n);
  });
  const reads = client.pipeline();
  let offset = 0;
  for (const segment of segments) {
    const size = segment.size ?? 0;
    const from = Math.max(start - offset, 0);
    const to = Math.min(stop - offset, size - 1);
    offset += size;
    if (to >= from) segment.read(reads, from, to);
  }
  const ids: string[] = [];
  for (const [error, part] of (await reads.exec()) ?? []) {
    if (error) throw error;
    ids.push(...(part as string[]));
  }
  return ids;
}

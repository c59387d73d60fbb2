import type { Logger } from "../../core/logger.js";
import type { DeadLetter, QueueCounts, ScheduleInfo, TopicLimits } from "../broker.js";
import type { RedisClient } from "./cluster.js";
import { decodeDeadLetter } from "./codec.js";
import type { KeySpace, QueueKeys } from "./connection.js";
import { readSchedules } from "./operations.js";
import { HOUSEKEEPING_LIMIT } from "./receiver.js";
import { wrapErrors } from "./redis-errors.js";
import { scriptCall, type ScriptCall, type ScriptRunner } from "./scripts.js";

export interface QueuesSettings {
  readonly client: RedisClient;
  readonly keys: KeySpace;
  readonly scripts: ScriptRunner;
  readonly logger: Logger;
  readonly maxStalls: number;
  readonly maxDead: number;
}

/**
 * The Redis broker's operations on whole queues: declaring, flushing and deleting them
 * (flush.lua), counting their messages and reading their dead letters after housekeeping
 * (counts.lua), listing and removing their periodic messages (schedules.lua, remove-schedule.lua).
 */
export class RedisQueues {
  readonly #s: QueuesSettings;

  constructor(settings: QueuesSettings) {
    this.#s = settings;
  }

  /** Declares the queue; a queue that exists is left untouched (no write: works on a full Redis). */
  async declare(queue: string): Promise<void> {
    const { client } = this.#s;
    const keys = this.#s.keys.queue(queue);
    await wrapErrors("declare queue", async () => {
      if ((await client.exists(keys.declared)) === 0) await client.set(keys.declared, "1");
    });
  }

  /** Removes every message of the queue, and with `remove` the queue itself. */
  async flush(queue: string, remove: boolean): Promise<void> {
    const k = this.#s.keys.queue(queue);
    await this.#run(
      `${remove ? "delete" : "flush"} queue`,
      scriptCall("flush", [...k.state, k.declared, k.seq], [remove ? "1" : "0"]),
    );
  }

  async exists(queue: string): Promise<boolean> {
    const keys = this.#s.keys.queue(queue);
    return (await wrapErrors("check queue", () => this.#s.client.exists(keys.declared))) === 1;
  }

  async schedules(queue: string): Promise<ScheduleInfo[]> {
    const k = this.#s.keys.queue(queue);
    const reply = (await this.#run(
      "list schedules",
      scriptCall("schedules", [k.msg, k.lease, k.delayed, k.sched], []),
    )) as string[];
    return readSchedules(queue, reply);
  }

  async removeSchedule(queue: string, id: string): Promise<boolean> {
    const k = this.#s.keys.queue(queue);
    const removed = await this.#run(
      "remove schedule",
      scriptCall("remove-schedule", k.state, [id]),
    );
    return removed === 1;
  }

  /** Counts as of now: due delayed messages count as ready, ended leases are recovered first. */
  async counts(queue: string): Promise<QueueCounts> {
    const reply = (await this.#run("count messages", this.#housekeeping(queue))) as [
      number,
      number,
      number,
      number,
      number,
      (string | number)[],
    ];
    if ((reply[4] ?? 0) > 0) {
      this.#s.logger.error(
        `repid redis: ${reply[4]} message(s) of queue "${queue}" had no stored body (evicted? use maxmemory-policy noeviction): dead-lettered with code EVICTED`,
        { queue, count: reply[4] },
      );
    }
    return {
      ready: reply[0] ?? 0,
      delayed: reply[1] ?? 0,
      running: reply[2] ?? 0,
      dead: reply[3] ?? 0,
      ...limitedCounts(reply[5] ?? []),
    };
  }

  /** Sets or removes a topic's limits (see declare-limits.lua); the same ones again change nothing. */
  async declareLimits(
    queue: string,
    topic: string,
    limits: TopicLimits | undefined,
  ): Promise<void> {
    const k = this.#s.keys.queue(queue);
    await this.#run(
      "declare limits",
      scriptCall("declare-limits", k.state, [topic, limitsJson(limits)]),
    );
  }

  /** Dead letters as of now: ended leases past `maxStalls` are dead-lettered first. */
  async deadLetters(queue: string, options: { readonly limit?: number }): Promise<DeadLetter[]> {
    const k = this.#s.keys.queue(queue);
    const limit = options.limit ?? Infinity;
    if (limit <= 0) return [];
    await this.#run("read dead letters", this.#housekeeping(queue));
    const stop = Number.isFinite(limit) ? Math.floor(limit) - 1 : -1;
    const raw = await wrapErrors("read dead letters", () => this.#s.client.lrange(k.dead, 0, stop));
    return raw.map((entry) => decodeDeadLetter(queue, entry));
  }

  /** Promotes due messages, recovers ended leases, then counts (see counts.lua). */
  #housekeeping(queue: string): ScriptCall {
    const k: QueueKeys = this.#s.keys.queue(queue);
    return scriptCall("counts", k.state, [this.#s.maxStalls, this.#s.maxDead, HOUSEKEEPING_LIMIT]);
  }

  #run(what: string, call: ScriptCall): Promise<unknown> {
    return wrapErrors(what, () => this.#s.scripts.run(this.#s.client, call));
  }
}

/** The limits as limits.lua reads them: `{ c, ck, r, rw, rk }`, or '' for none. */
function limitsJson(limits: TopicLimits | undefined): string {
  if (!limits) return "";
  const { concurrency: c, rateLimit: r } = limits;
  return JSON.stringify({
    ...(c ? { c: c.limit, ...(c.key === undefined ? {} : { ck: c.key }) } : {}),
    ...(r ? { r: r.limit, rw: r.perMs, ...(r.key === undefined ? {} : { rk: r.key }) } : {}),
  });
}

/** `limited` and `limitedBy` from counts.lua's flat list of topic and count pairs. */
function limitedCounts(
  pairs: readonly (string | number)[],
): Pick<QueueCounts, "limited" | "limitedBy"> {
  if (pairs.length === 0) return {};
  const limitedBy: Record<string, number> = {};
  let limited = 0;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const n = Number(pairs[i + 1]);
    if (n <= 0) continue;
    limitedBy[String(pairs[i])] = n;
    limited += n;
  }
  return limited > 0 ? { limited, limitedBy } : {};
}

import type { Logger } from "../../core/logger.js";
import type { Cancelled } from "../admin.js";
import type { Delivery, Settlement } from "../broker.js";
import type { RedisClient } from "./cluster.js";
import type { KeySpace } from "./connection.js";
import { buildRenewCalls, buildSettleCalls } from "./operations.js";
import { brokerError, wrapErrors } from "./redis-errors.js";
import { runResending } from "./resend.js";
import type { ScriptRunner } from "./scripts.js";
import type { SpentMemos } from "./spent-memos.js";

export interface SettlerSettings {
  readonly client: RedisClient;
  readonly keys: KeySpace;
  readonly scripts: ScriptRunner;
  readonly logger: Logger;
  readonly maxDead: number;
  /** Memos of answered calls, deleted by the next call on their queue. */
  readonly spent: SpentMemos;
  /** How settle.lua announces a kept result: 'p' PUBLISH, 's' SPUBLISH (learnt at connect). */
  publish(): "p" | "s";
  /** True once the broker disconnects: settle calls that failed are not sent again. */
  closing(): boolean;
}

/**
 * The lease holder's side of the Redis broker: settlements (settle.lua) and lease renewals
 * (renew.lua), batched per queue (see operations.ts), each applied only while its fencing token
 * is the message's current lease. A settle call keeps a memo of its answer, so that one sent
 * again after a lost reply (see resend.ts) answers as the first did.
 */
export class Settler {
  readonly #s: SettlerSettings;
  #settleCalls = 0;
  readonly #settleNonce = Math.random().toString(36).slice(2, 10);
  #saidRefused = false;

  constructor(settings: SettlerSettings) {
    this.#s = settings;
  }

  /** Redis refused PUBLISH and the broker said so at connect: settlements need not say it again. */
  refusalSaid(): void {
    this.#saidRefused = true;
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    if (settlements.length === 0) return [];
    const { client, scripts, spent } = this.#s;
    const { calls, slices } = buildSettleCalls(
      this.#s.keys,
      settlements,
      this.#s.maxDead,
      () => `s.${this.#settleNonce}.${(this.#settleCalls++).toString(36)}`,
      this.#s.publish(),
      (queue) => spent.take(queue),
    );
    const outcomes = await wrapErrors("settle", () =>
      runResending(scripts, client, calls, () => this.#s.closing()),
    );
    // Answered calls (applied, or refused by Redis itself): nothing sends them again.
    outcomes.forEach((outcome, c) => {
      if (outcome.ok || outcome.error.name === "ReplyError")
        spent.add(slices[c]!.queue, calls[c]!.memo!);
    });
    const flags = new Array<boolean>(settlements.length).fill(false);
    let refused = 0;
    outcomes.forEach((outcome, c) => {
      if (!outcome.ok) throw brokerError("settle", outcome.error);
      const values = outcome.value as number[];
      const indices = slices[c]!.indices;
      indices.forEach((index, k) => (flags[index] = values[k] === 1));
      refused += values[indices.length] ?? 0;
    });
    if (refused > 0 && !this.#saidRefused) {
      this.#saidRefused = true;
      this.#s.logger.warn(
        "repid redis: Redis refused to PUBLISH a job's result (ACL channel permissions): results are stored and settlements applied; waiters read the result keys instead",
      );
    }
    return flags;
  }

  async renew(deliveries: readonly Delivery[], leaseMs: number): Promise<(boolean | Cancelled)[]> {
    if (deliveries.length === 0) return [];
    const { client, scripts } = this.#s;
    const { calls, slices } = buildRenewCalls(this.#s.keys, deliveries, leaseMs);
    const outcomes = await wrapErrors("renew", () => scripts.runMany(client, calls));
    const flags = new Array<boolean | Cancelled>(deliveries.length).fill(false);
    outcomes.forEach((outcome, c) => {
      if (!outcome.ok) throw brokerError("renew", outcome.error);
      const values = outcome.value as number[];
      slices[c]!.indices.forEach((index, k) => (flags[index] = renewed(values[k])));
    });
    return flags;
  }
}

/** renew.lua's answer for one lease (see the script). */
function renewed(value: number | undefined): boolean | Cancelled {
  if (value === 2) return { cancelled: "dead" };
  if (value === 3) return { cancelled: "ack" };
  return value === 1;
}

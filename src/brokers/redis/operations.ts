import type { Delivery, OutgoingMessage, Settlement } from "../broker.js";
import {
  decodeMessage,
  encodeFailure,
  encodeNew,
  encodeResult,
  MALFORMED,
  storedTime,
} from "./codec.js";
import type { KeySpace, QueueKeys } from "./connection.js";
import type { ScriptCall } from "./scripts.js";

/*
 * Builds the script calls of the batch operations and reads their replies. Batches are split by
 * queue (each script touches one queue's hash-tagged keys) and into chunks, so that no single
 * script holds Redis for long; the broker sends all calls of one operation in one pipeline.
 */

const ENQUEUE_CHUNK = 250;
const SETTLE_CHUNK = 500;
const RENEW_CHUNK = 1000;

/** Which input positions one script call covers. */
export interface Slice {
  readonly queue: string;
  readonly indices: number[];
}

function slicesOf<T>(items: readonly T[], queueOf: (item: T) => string, chunk: number): Slice[] {
  const open = new Map<string, Slice>();
  const slices: Slice[] = [];
  items.forEach((item, index) => {
    const queue = queueOf(item);
    let slice = open.get(queue);
    if (!slice || slice.indices.length >= chunk) {
      slice = { queue, indices: [] };
      open.set(queue, slice);
      slices.push(slice);
    }
    slice.indices.push(index);
  });
  return slices;
}

export function buildEnqueueCalls(
  keys: KeySpace,
  messages: readonly OutgoingMessage[],
  now: number,
): { calls: ScriptCall[]; slices: Slice[]; queues: string[] } {
  const slices = slicesOf(messages, (m) => m.queue, ENQUEUE_CHUNK);
  const calls = slices.map((slice): ScriptCall => {
    const k = keys.queue(slice.queue);
    const args: (string | number)[] = [slice.indices.length];
    for (const index of slice.indices) {
      const m = messages[index]!;
      args.push(m.id, m.priority, storedTime(m.executeAt), encodeNew(m, now));
    }
    return {
      script: "enqueue",
      keys: [k.declared, k.seq, k.msg, k.ready, k.delayed, k.notify],
      args,
    };
  });
  return { calls, slices, queues: [...new Set(slices.map((s) => s.queue))] };
}

export function buildSettleCalls(
  keys: KeySpace,
  settlements: readonly Settlement[],
  maxDead: number,
): { calls: ScriptCall[]; slices: Slice[] } {
  const slices = slicesOf(settlements, (s) => s.delivery.message.queue, SETTLE_CHUNK);
  const calls = slices.map((slice): ScriptCall => {
    const callKeys = [...keys.queue(slice.queue).state];
    const args: (string | number)[] = [maxDead, slice.indices.length];
    for (const index of slice.indices) {
      const s = settlements[index]!;
      const { message, token } = s.delivery;
      let resultIndex = 0;
      let result = "";
      let ttl = "";
      if (s.result && s.result.ttlMs >= 1) {
        callKeys.push(keys.result(message.id));
        resultIndex = callKeys.length;
        result = encodeResult(s.result.stored);
        ttl = String(Math.ceil(s.result.ttlMs));
      }
      switch (s.kind) {
        case "ack":
          args.push("a", message.id, token, "", "", "", result, ttl, resultIndex);
          break;
        case "requeue":
          args.push(
            "r",
            message.id,
            token,
            String(Math.max(0, Math.trunc(s.attempt))),
            storedTime(s.executeAt),
            "",
            result,
            ttl,
            resultIndex,
          );
          break;
        case "dead":
          args.push(
            "d",
            message.id,
            token,
            "",
            "",
            encodeFailure(s.error),
            result,
            ttl,
            resultIndex,
          );
          break;
      }
    }
    return { script: "settle", keys: callKeys, args };
  });
  return { calls, slices };
}

export function buildRenewCalls(
  keys: KeySpace,
  deliveries: readonly Delivery[],
  leaseMs: number,
): { calls: ScriptCall[]; slices: Slice[] } {
  const slices = slicesOf(deliveries, (d) => d.message.queue, RENEW_CHUNK);
  const calls = slices.map((slice): ScriptCall => {
    const k = keys.queue(slice.queue);
    const args: (string | number)[] = [Math.max(1, Math.ceil(leaseMs)), slice.indices.length];
    for (const index of slice.indices) {
      const d = deliveries[index]!;
      args.push(d.message.id, d.token);
    }
    return { script: "renew", keys: [k.lease, k.running], args };
  });
  return { calls, slices };
}

/** What one receive round produced. */
export interface Taken {
  readonly deliveries: Delivery[];
  /** Leased messages the client could not decode, to dead-letter as MALFORMED. */
  readonly malformed: Settlement[];
  /** Redis server time of the round, epoch ms. */
  now: number;
  /** Earliest delayed due time or lease deadline when nothing was leased, else -1. */
  nextAt: number;
}

/** Runs receive.lua on one queue and decodes what it leased. */
export async function takeFromQueue(
  run: (call: ScriptCall) => Promise<unknown>,
  k: QueueKeys,
  queue: string,
  args: readonly (string | number)[],
  tokenPrefix: string,
): Promise<Taken> {
  const reply = (await run({ script: "receive", keys: k.state, args })) as (string | number)[];
  const leaseUntil = Number(reply[1]);
  const taken: Taken = {
    deliveries: [],
    malformed: [],
    now: Number(reply[0]),
    nextAt: Number(reply[2]),
  };
  for (let i = 3, n = 1; i + 1 < reply.length; i += 2, n++) {
    const id = String(reply[i]);
    const token = tokenPrefix + n;
    const message = decodeMessage(queue, id, String(reply[i + 1]));
    if (message) {
      taken.deliveries.push({ message, token, leaseUntil });
    } else {
      const placeholder = {
        id,
        queue,
        topic: "",
        payload: undefined,
        priority: 2,
        retries: 0,
        timeoutMs: 0,
        attempt: 0,
        enqueuedAt: 0,
        stalls: 0,
      } as const;
      taken.malformed.push({
        kind: "dead",
        delivery: { message: placeholder, token, leaseUntil },
        error: MALFORMED,
      });
    }
  }
  return taken;
}

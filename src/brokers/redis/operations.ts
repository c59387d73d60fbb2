import type { Delivery, OutgoingMessage, Schedule, ScheduleInfo, Settlement } from "../broker.js";
import {
  decodeMessage,
  encodeFailure,
  encodeNew,
  encodeResult,
  MALFORMED,
  storedTime,
} from "./codec.js";
import type { KeySpace, QueueKeys } from "./connection.js";
import { scriptCall, type ScriptCall } from "./scripts.js";
import { mapped } from "../../core/arrays.js";

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

/** A schedule as the enqueue script compares it: same schedule, same text. */
function scheduleText(schedule: Schedule | undefined): string {
  if (!schedule) return "";
  return JSON.stringify([schedule.cron ?? null, schedule.everyMs ?? null]);
}

export function buildEnqueueCalls(
  keys: KeySpace,
  messages: readonly OutgoingMessage[],
  now: number,
  callId: () => string,
): { calls: ScriptCall[]; slices: Slice[]; queues: string[] } {
  const slices = slicesOf(messages, (m) => m.queue, ENQUEUE_CHUNK);
  const calls = mapped(slices, (slice): ScriptCall => {
    const k = keys.queue(slice.queue);
    const args: (string | number)[] = [slice.indices.length];
    const origin = callId();
    const windows: (string | number)[] = [];
    const windowKeys: string[] = [];
    const debounced: number[] = [];
    slice.indices.forEach((index, i) => {
      const m = messages[index]!;
      args.push(
        m.id,
        m.priority,
        storedTime(m.executeAt),
        scheduleText(m.schedule),
        encodeNew(m, now, origin),
      );
      if (m.dedupeMs !== undefined) {
        windows.push(i + 1, Math.max(1, Math.ceil(m.dedupeMs)));
        windowKeys.push(k.dedupe(m.id));
      }
      if (m.debounceMs !== undefined) debounced.push(i + 1);
    });
    if (windowKeys.length > 0) args.push(windowKeys.length, origin, ...windows);
    else if (debounced.length > 0) args.push(0);
    if (debounced.length > 0) args.push(debounced.length, ...debounced);
    return scriptCall(
      "enqueue",
      windowKeys.length > 0 ? [...k.enqueue, ...windowKeys] : k.enqueue,
      args,
    );
  });
  return { calls, slices, queues: [...new Set(slices.map((s) => s.queue))] };
}

/**
 * `publish`: how settle.lua announces a stored result, 'p' PUBLISH or 's' SPUBLISH (sharded
 * pub/sub, on a cluster of Redis 7 or later); sent as the script's last argument.
 */
/** A settlement's kind as settle.lua reads it (upper case when a result follows). */
const SETTLE_KINDS = { ack: "a", requeue: "r", dead: "d" } as const;

export function buildSettleCalls(
  keys: KeySpace,
  settlements: readonly Settlement[],
  maxDead: number,
  callId: () => string,
  publish: "p" | "s" = "p",
  spent: (queue: string) => readonly string[] = () => [],
): { calls: ScriptCall[]; slices: Slice[] } {
  const slices = slicesOf(settlements, (s) => s.delivery.message.queue, SETTLE_CHUNK);
  const calls = mapped(slices, (slice): ScriptCall => {
    const k = keys.queue(slice.queue);
    const memo = k.memo(callId());
    const callKeys = [...k.state, memo];
    const args: (string | number)[] = [maxDead, slice.indices.length];
    for (const index of slice.indices) {
      const s = settlements[index]!;
      const { message, token } = s.delivery;
      // Upper case: a result to keep follows the kind's own fields (see settle.lua).
      const keep = s.result !== undefined && s.result.ttlMs >= 1;
      const letter = SETTLE_KINDS[s.kind];
      args.push(keep ? letter.toUpperCase() : letter, message.id, token);
      if (s.kind === "requeue")
        args.push(String(Math.max(0, Math.trunc(s.attempt))), storedTime(s.executeAt));
      else if (s.kind === "dead") args.push(encodeFailure(s.error));
      if (keep) {
        callKeys.push(keys.result(slice.queue, message.id));
        args.push(
          encodeResult(s.result!.stored),
          String(Math.ceil(s.result!.ttlMs)),
          callKeys.length,
        );
      }
    }
    const memos = spent(slice.queue);
    callKeys.push(...memos);
    args.push(memos.length, publish);
    return scriptCall("settle", callKeys, args, memo);
  });
  return { calls, slices };
}

export function buildRenewCalls(
  keys: KeySpace,
  deliveries: readonly Delivery[],
  leaseMs: number,
): { calls: ScriptCall[]; slices: Slice[] } {
  const slices = slicesOf(deliveries, (d) => d.message.queue, RENEW_CHUNK);
  const calls = mapped(slices, (slice): ScriptCall => {
    const k = keys.queue(slice.queue);
    const args: (string | number)[] = [Math.max(1, Math.ceil(leaseMs)), slice.indices.length];
    for (const index of slice.indices) {
      const d = deliveries[index]!;
      args.push(d.message.id, d.token);
    }
    return scriptCall("renew", k.state, args);
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

/** One receive.lua call on one queue; `tokenPrefix` is unique per call (it is the call's id). */
export function receiveCall(
  k: QueueKeys,
  options: {
    readonly max: number;
    readonly leaseMs: number;
    readonly tokenPrefix: string;
    readonly maxStalls: number;
    readonly maxDead: number;
    readonly limit: number;
    readonly consumer: string;
    /** Spent memo keys of the queue for the call to delete (see SpentMemos). */
    readonly spent?: readonly string[];
  },
): ScriptCall {
  // A call that leases nothing keeps no memo: sent again, it has nothing to hand out twice.
  const memo = options.max > 0 ? k.memo(options.tokenPrefix) : undefined;
  return scriptCall(
    "receive",
    [...k.state, ...(memo ? [memo] : []), ...(options.spent ?? [])],
    [
      options.max,
      Math.max(1, Math.ceil(options.leaseMs)),
      options.tokenPrefix,
      options.maxStalls,
      options.maxDead,
      options.limit,
      options.consumer,
      options.spent?.length ?? 0,
    ],
    memo,
  );
}

/** Decodes a receive.lua reply: what it leased, and the bodies it found missing. */
export function readTaken(
  reply: readonly (string | number)[],
  queue: string,
  tokenPrefix: string,
  consumer: string,
): Taken & { readonly evicted: number } {
  const leaseUntil = Number(reply[1]);
  const suffix = consumer === "" ? "" : `@${consumer}`;
  const taken = {
    deliveries: [] as Delivery[],
    malformed: [] as Settlement[],
    now: Number(reply[0]),
    nextAt: Number(reply[2]),
    evicted: Number(reply[3]),
  };
  for (let i = 4, n = 1; i + 1 < reply.length; i += 2, n++) {
    const id = String(reply[i]);
    const token = tokenPrefix + n + suffix;
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

/** Decodes a schedules.lua reply into `ScheduleInfo`s, by id. */
export function readSchedules(queue: string, reply: readonly string[]): ScheduleInfo[] {
  const out: ScheduleInfo[] = [];
  for (let i = 0; i + 3 < reply.length; i += 4) {
    const m = decodeMessage(queue, reply[i]!, reply[i + 1]!);
    if (!m?.schedule) continue;
    const state = reply[i + 2] as ScheduleInfo["state"];
    const due = reply[i + 3] === "" ? undefined : Number(reply[i + 3]);
    const nextRunAt = due ?? m.executeAt ?? m.enqueuedAt;
    out.push({ id: m.id, queue, topic: m.topic, schedule: m.schedule, nextRunAt, state });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

import type {
  DeadLetter,
  FailureInfo,
  Message,
  OutgoingMessage,
  PriorityLevel,
  Schedule,
  StoredResult,
} from "../broker.js";

/*
 * Stored form of a message (one hash field per message, see scripts/common.lua):
 *
 *   <seq>|<priority>|<attempt>|<stalls>|<executeAt>|<meta JSON>\n<payload>
 *
 * The header is the part the Lua scripts read and rewrite; `seq` is prepended by enqueue.lua.
 * The meta JSON is a small array (cheaper to build and parse than an object) and the payload,
 * already JSON text, follows verbatim after the first newline (JSON.stringify never emits a raw
 * newline), so it is neither escaped nor parsed by the broker.
 *
 * meta: [topic, retries, timeoutMs, enqueuedAt, origin, extras?]; origin names the enqueue call
 *       that stored the message, so that the same call sent again after a lost reply knows its
 *       own (see enqueue.lua); extras, only when one of its fields is set: { r: resultTtlMs,
 *       s: schedule, h: headers, x: expiresAt, e: 1 (an empty payload) }. The payload is present when the text
 *       after the newline is not empty (or `e` says it is the empty string). A waiting no-op
 *       message takes 18 bytes less than in the first layout, which Redis stores in a 64-byte
 *       allocation instead of an 80-byte one.
 * First layout (still read): [topic, retries, timeoutMs, enqueuedAt, resultTtlMs | null,
 *       schedule | null, hasPayload, headers | null, origin], or ending after hasPayload or
 *       headers (older still).
 */

/** `executeAt` as stored: whole non-negative ms, or '' for none. */
export function storedTime(at: number | undefined): string {
  if (at === undefined || !Number.isFinite(at)) return "";
  return String(Math.max(0, Math.ceil(at)));
}

/** The part of a stored message after `<seq>|`, as enqueue.lua expects it. */
export function encodeNew(m: OutgoingMessage, enqueuedAt: number, origin: string): string {
  const fields: unknown[] = [m.topic, m.retries, m.timeoutMs, enqueuedAt, origin];
  const extras: { r?: number; s?: Schedule; h?: Record<string, string>; x?: number; e?: 1 } = {};
  if (m.resultTtlMs !== undefined) extras.r = m.resultTtlMs;
  if (m.schedule !== undefined) extras.s = m.schedule;
  if (m.headers !== undefined) extras.h = m.headers;
  if (m.expiresAt !== undefined) extras.x = Math.ceil(m.expiresAt);
  if (m.payload === "") extras.e = 1;
  if (Object.keys(extras).length > 0) fields.push(extras);
  const meta = JSON.stringify(fields);
  return `${m.priority}|1|0|${storedTime(m.executeAt)}|${meta}\n${m.payload ?? ""}`;
}

function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isSchedule(value: unknown): value is Schedule {
  if (value === null || typeof value !== "object") return false;
  const s = value as Record<string, unknown>;
  return (
    (s.cron === undefined || typeof s.cron === "string") &&
    (s.everyMs === undefined || isInt(s.everyMs))
  );
}

function isHeaders(value: unknown): value is Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === "string");
}

interface MetaFields {
  readonly topic: unknown;
  readonly retries: unknown;
  readonly timeoutMs: unknown;
  readonly enqueuedAt: unknown;
  readonly resultTtlMs: unknown;
  readonly schedule: unknown;
  readonly hasPayload: boolean;
  readonly headers: unknown;
  readonly expiresAt: unknown;
}

/** The fields of a meta array in either layout; `undefined` when it is neither. */
function readMeta(meta: unknown, textAfter: boolean): MetaFields | undefined {
  if (!Array.isArray(meta)) return undefined;
  if (typeof meta[4] === "string" && (meta.length === 5 || meta.length === 6)) {
    const [topic, retries, timeoutMs, enqueuedAt, , extras] = meta as unknown[];
    if (extras !== undefined && (extras === null || typeof extras !== "object")) return undefined;
    const x = (extras ?? {}) as Record<string, unknown>;
    return {
      topic,
      retries,
      timeoutMs,
      enqueuedAt,
      resultTtlMs: x.r ?? null,
      schedule: x.s ?? null,
      hasPayload: textAfter || x.e === 1,
      headers: x.h ?? null,
      expiresAt: x.x ?? null,
    };
  }
  if (meta.length < 7 || meta.length > 9) return undefined;
  const [topic, retries, timeoutMs, enqueuedAt, resultTtlMs, schedule, hasPayload, headers] =
    meta as unknown[];
  return {
    topic,
    retries,
    timeoutMs,
    enqueuedAt,
    resultTtlMs,
    schedule,
    hasPayload: hasPayload === 1,
    headers,
    expiresAt: null,
  };
}

/** Decodes a stored message; `undefined` when it is malformed. */
export function decodeMessage(queue: string, id: string, stored: string): Message | undefined {
  const p0 = stored.indexOf("|");
  const p1 = stored.indexOf("|", p0 + 1);
  const p2 = stored.indexOf("|", p1 + 1);
  const p3 = stored.indexOf("|", p2 + 1);
  const p4 = stored.indexOf("|", p3 + 1);
  if (p0 < 0 || p1 < 0 || p2 < 0 || p3 < 0 || p4 < 0) return undefined;
  const nl = stored.indexOf("\n", p4 + 1);
  if (nl < 0) return undefined;
  const priority = Number(stored.slice(p0 + 1, p1));
  const attempt = Number(stored.slice(p1 + 1, p2));
  const stalls = Number(stored.slice(p2 + 1, p3));
  const executeAt = p4 > p3 + 1 ? Number(stored.slice(p3 + 1, p4)) : undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(stored.slice(p4 + 1, nl));
  } catch {
    return undefined;
  }
  const fields = readMeta(meta, stored.length > nl + 1);
  if (!fields) return undefined;
  const {
    topic,
    retries,
    timeoutMs,
    enqueuedAt,
    resultTtlMs,
    schedule,
    hasPayload,
    headers,
    expiresAt,
  } = fields;
  if (headers !== undefined && headers !== null && !isHeaders(headers)) return undefined;
  if (
    (priority !== 0 && priority !== 1 && priority !== 2) ||
    !isInt(attempt) ||
    !isInt(stalls) ||
    (executeAt !== undefined && !isInt(executeAt)) ||
    typeof topic !== "string" ||
    !isInt(retries) ||
    !isInt(timeoutMs) ||
    !isInt(enqueuedAt) ||
    (resultTtlMs !== null && !isInt(resultTtlMs)) ||
    (expiresAt !== null && !isInt(expiresAt)) ||
    (schedule !== null && !isSchedule(schedule))
  ) {
    return undefined;
  }
  const message: {
    -readonly [K in keyof Message]: Message[K];
  } = {
    id,
    queue,
    topic,
    payload: hasPayload ? stored.slice(nl + 1) : undefined,
    priority: priority as PriorityLevel,
    retries,
    timeoutMs,
    attempt,
    enqueuedAt,
    stalls,
  };
  if (executeAt !== undefined) message.executeAt = executeAt;
  if (schedule !== null) message.schedule = schedule;
  if (resultTtlMs !== null) message.resultTtlMs = resultTtlMs;
  if (headers !== undefined && headers !== null) message.headers = headers;
  if (expiresAt !== null) message.expiresAt = expiresAt;
  return message;
}

/** What a dead letter shows when its stored message could not be decoded: the raw text. */
function rawMessage(queue: string, id: string, stored: string | false): Message {
  return {
    id,
    queue,
    topic: "",
    payload: stored === false ? undefined : stored,
    priority: 2,
    retries: 0,
    timeoutMs: 0,
    attempt: 0,
    enqueuedAt: 0,
    stalls: 0,
  };
}

function decodeFailure(json: unknown): FailureInfo {
  try {
    const value: unknown = typeof json === "string" ? JSON.parse(json) : undefined;
    if (value !== null && typeof value === "object") {
      const f = value as Record<string, unknown>;
      if (typeof f.name === "string" && typeof f.message === "string") {
        return {
          name: f.name,
          message: f.message,
          ...(typeof f.stack === "string" ? { stack: f.stack } : {}),
          ...(typeof f.code === "string" ? { code: f.code } : {}),
        };
      }
    }
  } catch {
    // fall through
  }
  return { name: "Error", message: String(json), code: "MALFORMED" };
}

/** JSON of a failure as dead-lettered, dropping anything but its four fields. */
export function encodeFailure(error: FailureInfo): string {
  return JSON.stringify({
    name: error.name,
    message: error.message,
    stack: error.stack,
    code: error.code,
  });
}

/** Decodes one element of a dead-letter list (see scripts/common.lua), leniently. */
export function decodeDeadLetter(queue: string, raw: string): DeadLetter {
  let entry: unknown;
  try {
    entry = JSON.parse(raw);
  } catch {
    entry = undefined;
  }
  if (!Array.isArray(entry)) {
    return { message: rawMessage(queue, "", raw), error: decodeFailure(undefined), failedAt: 0 };
  }
  const [id, failedAt, errorJson, stored] = entry as unknown[];
  const sid = typeof id === "string" ? id : String(id);
  const text = typeof stored === "string" ? stored : false;
  return {
    message: (text !== false && decodeMessage(queue, sid, text)) || rawMessage(queue, sid, text),
    error: decodeFailure(errorJson),
    failedAt: typeof failedAt === "number" ? failedAt : 0,
  };
}

export function encodeResult(result: StoredResult): string {
  return JSON.stringify(result);
}

/** Decodes a stored result; `undefined` when absent or unreadable. */
export function decodeResult(raw: string | null | undefined): StoredResult | undefined {
  if (raw === null || raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.finishedAt !== "number") return undefined;
  if (r.ok === true) {
    return {
      ok: true,
      value: typeof r.value === "string" ? r.value : undefined,
      finishedAt: r.finishedAt,
    };
  }
  if (r.ok === false && typeof r.attempts === "number") {
    return {
      ok: false,
      error: decodeFailure(JSON.stringify(r.error)),
      attempts: r.attempts,
      finishedAt: r.finishedAt,
    };
  }
  return undefined;
}

/** The reason recorded for a message whose stored form the client could not decode. */
export const MALFORMED: FailureInfo = Object.freeze({
  name: "MalformedMessageError",
  code: "MALFORMED",
  message: "Stored message could not be decoded",
});

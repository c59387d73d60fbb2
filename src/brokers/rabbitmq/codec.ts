/** How messages and dead letters look on RabbitMQ: one JSON document per AMQP message body. */
import type { DeadLetter, FailureInfo, Message, Schedule } from "../broker.js";

/** What travels in a body: the stored message without its queue (the AMQP queue says it). */
type Body = Omit<Message, "queue"> & { readonly v: 1 };

export function encodeMessage(message: Message): Buffer {
  const body: { -readonly [K in keyof Body]: Body[K] } = {
    v: 1,
    id: message.id,
    topic: message.topic,
    payload: message.payload,
    priority: message.priority,
    retries: message.retries,
    timeoutMs: message.timeoutMs,
    attempt: message.attempt,
    enqueuedAt: message.enqueuedAt,
    stalls: message.stalls,
  };
  if (message.executeAt !== undefined) body.executeAt = message.executeAt;
  if (message.schedule !== undefined) body.schedule = message.schedule;
  if (message.resultTtlMs !== undefined) body.resultTtlMs = message.resultTtlMs;
  if (message.headers !== undefined) body.headers = message.headers;
  if (message.expiresAt !== undefined) body.expiresAt = message.expiresAt;
  return Buffer.from(JSON.stringify(body));
}

/** The message in a body, or `undefined` when the body is not one repid wrote. */
export function decodeMessage(queue: string, content: Buffer): Message | undefined {
  let value: unknown;
  try {
    value = JSON.parse(content.toString("utf8"));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  const b = value as Record<string, unknown>;
  if (
    b.v !== 1 ||
    typeof b.id !== "string" ||
    typeof b.topic !== "string" ||
    !(b.payload === undefined || typeof b.payload === "string") ||
    (b.priority !== 0 && b.priority !== 1 && b.priority !== 2) ||
    !isCount(b.retries) ||
    !isCount(b.timeoutMs) ||
    !isCount(b.attempt) ||
    !isCount(b.enqueuedAt) ||
    !isCount(b.stalls)
  ) {
    return undefined;
  }
  const message: { -readonly [K in keyof Message]: Message[K] } = {
    id: b.id,
    queue,
    topic: b.topic,
    payload: b.payload,
    priority: b.priority,
    retries: b.retries,
    timeoutMs: b.timeoutMs,
    attempt: b.attempt,
    enqueuedAt: b.enqueuedAt,
    stalls: b.stalls,
  };
  if (typeof b.executeAt === "number") message.executeAt = b.executeAt;
  if (isSchedule(b.schedule)) message.schedule = b.schedule;
  if (typeof b.resultTtlMs === "number") message.resultTtlMs = b.resultTtlMs;
  if (isHeaders(b.headers)) message.headers = b.headers;
  if (typeof b.expiresAt === "number") message.expiresAt = b.expiresAt;
  return message;
}

/** A dead letter's body: the message (or the raw body that was no message) and why. */
export function encodeDeadLetter(
  message: Message | undefined,
  raw: Buffer | undefined,
  error: FailureInfo,
  failedAt: number,
): Buffer {
  return Buffer.from(
    JSON.stringify({
      v: 1,
      message: message ? JSON.parse(encodeMessage(message).toString("utf8")) : undefined,
      raw: raw === undefined ? undefined : raw.toString("utf8"),
      error: {
        name: error.name,
        message: error.message,
        ...(error.stack !== undefined ? { stack: error.stack } : {}),
        ...(error.code !== undefined ? { code: error.code } : {}),
      },
      failedAt,
    }),
  );
}

/** Reads a dead letter leniently: whatever sits in the dead queue is listed. */
export function decodeDeadLetter(queue: string, content: Buffer, messageId: string): DeadLetter {
  let value: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(content.toString("utf8"));
    if (parsed !== null && typeof parsed === "object") value = parsed as Record<string, unknown>;
  } catch {
    // listed as a raw message below
  }
  const inner =
    value.message !== undefined
      ? decodeMessage(queue, Buffer.from(JSON.stringify(value.message)))
      : undefined;
  const raw = typeof value.raw === "string" ? value.raw : content.toString("utf8");
  const e = (value.error ?? {}) as Record<string, unknown>;
  const error: FailureInfo =
    typeof e.name === "string" && typeof e.message === "string"
      ? {
          name: e.name,
          message: e.message,
          ...(typeof e.stack === "string" ? { stack: e.stack } : {}),
          ...(typeof e.code === "string" ? { code: e.code } : {}),
        }
      : { name: "Error", message: "Unreadable dead letter", code: "MALFORMED" };
  return {
    message: inner ?? rawMessage(queue, messageId, raw),
    error,
    failedAt: typeof value.failedAt === "number" ? value.failedAt : 0,
  };
}

/** A message standing for a body that was not one (kept whole as its payload). */
export function rawMessage(queue: string, id: string, payload: string): Message {
  return {
    id,
    queue,
    topic: "",
    payload,
    priority: 1,
    retries: 0,
    timeoutMs: 0,
    attempt: 1,
    enqueuedAt: 0,
    stalls: 0,
  };
}

/** The reason recorded for a body that is not a repid message. */
export const MALFORMED: FailureInfo = Object.freeze({
  name: "MalformedMessageError",
  code: "MALFORMED",
  message:
    "The AMQP message body is not a repid message (published to the queue by something else?)",
});

export function stalledError(stalls: number): FailureInfo {
  return {
    name: "StalledError",
    code: "STALLED",
    message: `Lease ended ${stalls} times without the message being settled (worker crashed, hung or lost its connection)`,
  };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function isSchedule(value: unknown): value is Schedule {
  if (value === null || typeof value !== "object") return false;
  const s = value as Record<string, unknown>;
  return typeof s.cron === "string" || typeof s.everyMs === "number";
}

function isHeaders(value: unknown): value is Record<string, string> {
  return (
    value !== null &&
    typeof value === "object" &&
    Object.values(value as object).every((v) => typeof v === "string")
  );
}

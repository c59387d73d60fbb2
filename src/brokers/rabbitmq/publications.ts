/** The AMQP messages the RabbitMQ broker publishes: a message to its queue (or the delay ladder), a dead letter. */
import type { ConsumeMessage } from "amqplib";
import type { FailureInfo, Message, Settlement } from "../broker.js";
import { encodeDeadLetter, encodeMessage, MALFORMED, stalledError } from "./codec.js";
import type { Publication } from "./session.js";
import { amqpPriority, delayUnits, ladderKey, LEVELS, type QueueNames } from "./topology.js";

/**
 * `message` to its queue: ready now when it is due, else through the delay ladder. `back` marks a
 * message coming back (it goes ahead of fresh ones of its level); delayed ones always come back.
 */
export function publication(
  names: QueueNames,
  message: Message,
  back: boolean,
  now: number,
): Publication {
  const delayed = message.executeAt !== undefined && message.executeAt > now;
  const options = {
    persistent: true,
    contentType: "application/json",
    messageId: message.id,
    timestamp: Math.floor(now / 1000),
    priority: amqpPriority(message.priority, back || delayed),
  };
  const content = encodeMessage(message);
  if (!delayed) return { exchange: "", routingKey: names.main, content, options };
  return {
    exchange: names.route(LEVELS - 1),
    routingKey: ladderKey(delayUnits(message.executeAt! - now)),
    content,
    options,
  };
}

/** A dead letter of `message` (or of a raw delivery that was not one) with its reason. */
export function deadPublication(
  names: QueueNames,
  message: Message | undefined,
  raw: ConsumeMessage | undefined,
  error: FailureInfo,
): Publication {
  const id: unknown = message?.id ?? raw?.properties.messageId;
  return {
    exchange: "",
    routingKey: names.dead,
    content: encodeDeadLetter(message, raw?.content, error, Date.now()),
    options: {
      persistent: true,
      contentType: "application/json",
      ...(typeof id === "string" ? { messageId: id } : {}),
    },
  };
}

/**
 * What replaces a delivery as it arrives, or `undefined` when it can be handed out as it is: a
 * body that is no message is dead-lettered (`MALFORMED`); a redelivered one (its connection
 * closed before it was settled) is put back with `stalls` + 1, or dead-lettered (`STALLED`) past
 * `maxStalls`; one that arrives before it is due (a delay longer than the ladder, or clocks
 * apart) goes through the ladder again.
 */
export function arrivalReplacement(
  names: QueueNames,
  message: Message | undefined,
  raw: ConsumeMessage,
  maxStalls: number,
  now: number,
): Publication | undefined {
  if (!message) return deadPublication(names, undefined, raw, MALFORMED);
  const redelivered = raw.fields.redelivered;
  const early = message.executeAt !== undefined && message.executeAt > now;
  if (!redelivered && !early) return undefined;
  const stalls = message.stalls + (redelivered ? 1 : 0);
  return stalls > maxStalls
    ? deadPublication(names, { ...message, stalls }, undefined, stalledError(stalls))
    : publication(names, { ...message, stalls }, true, now);
}

/** What replaces a delivery whose lease ended unsettled: back with `stalls` + 1, or dead. */
export function endedReplacement(
  names: QueueNames,
  message: Message,
  maxStalls: number,
  now: number,
): Publication {
  const stalls = message.stalls + 1;
  return stalls > maxStalls
    ? deadPublication(names, { ...message, stalls }, undefined, stalledError(stalls))
    : publication(names, { ...message, stalls }, true, now);
}

/** What a requeue or dead settlement publishes (an ack publishes nothing). */
export function settlementPublication(
  names: QueueNames,
  s: Exclude<Settlement, { kind: "ack" }>,
  message: Message,
  now: number,
): Publication {
  if (s.kind === "dead") return deadPublication(names, message, undefined, s.error);
  const next: Message = {
    ...message,
    attempt: s.attempt,
    stalls: 0,
    ...(s.executeAt !== undefined ? { executeAt: s.executeAt } : {}),
  };
  return publication(names, next, true, now);
}

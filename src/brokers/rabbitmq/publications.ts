/** The AMQP messages the RabbitMQ broker publishes: a message to its queue (or the delay ladder), a dead letter. */
import type { ConsumeMessage } from "amqplib";
import type { FailureInfo, Message } from "../broker.js";
import { encodeDeadLetter, encodeMessage } from "./codec.js";
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

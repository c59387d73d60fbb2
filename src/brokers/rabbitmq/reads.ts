/** What the RabbitMQ broker reads without taking anything: counts and dead letters. */
import type { ChannelModel, ConsumeMessage } from "amqplib";
import type { DeadLetter, QueueCounts } from "../broker.js";
import { decodeDeadLetter } from "./codec.js";
import type { Session } from "./session.js";
import { LEVELS, type QueueNames } from "./topology.js";

/** How long listing dead letters waits for RabbitMQ to push them. */
const LIST_TIMEOUT_MS = 5_000;

/** Ready (main queue), delayed (the ladder) and dead messages; zeros for a missing queue. */
export async function readCounts(
  session: Session,
  names: QueueNames,
): Promise<Omit<QueueCounts, "running">> {
  return (
    (await session.probe(async (ch) => {
      const ready = (await ch.checkQueue(names.main)).messageCount;
      const dead = (await ch.checkQueue(names.dead)).messageCount;
      let delayed = 0;
      for (let level = 0; level < LEVELS; level++) {
        delayed += (await ch.checkQueue(names.delay(level))).messageCount;
      }
      return { ready, delayed, dead };
    })) ?? { ready: 0, delayed: 0, dead: 0 }
  );
}

/**
 * The first `limit` dead letters, oldest first, read on a channel of their own that is closed
 * without acking: RabbitMQ puts them back in their places.
 */
export async function readDeadLetters(
  model: ChannelModel,
  names: QueueNames,
  limit: number | undefined,
): Promise<DeadLetter[]> {
  const ch = await model.createChannel();
  ch.on("error", () => undefined);
  const raws: ConsumeMessage[] = [];
  try {
    const count = (await ch.checkQueue(names.dead)).messageCount;
    const want = Math.min(limit ?? count, count);
    if (want <= 0) return [];
    await ch.prefetch(want);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, LIST_TIMEOUT_MS);
      void ch.consume(names.dead, (raw) => {
        if (raw) raws.push(raw);
        if (!raw || raws.length >= want) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === 404) return [];
    throw error;
  } finally {
    await ch.close().catch(() => undefined);
  }
  return raws.map((raw) =>
    decodeDeadLetter(
      names.queue,
      raw.content,
      typeof raw.properties.messageId === "string" ? raw.properties.messageId : "",
    ),
  );
}

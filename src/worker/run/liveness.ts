import type { KeepAlive, MessageBroker } from "../../brokers/broker.js";
import type { Logger } from "../../core/logger.js";

/**
 * Keeps a worker run's heartbeat (see `MessageBroker.heartbeat`): through the broker's own
 * `keepAlive` when it has one (which survives a blocked event loop), else from a timer here.
 */
export async function startLiveness(
  broker: MessageBroker,
  consumer: string,
  queues: readonly string[],
  ttlMs: number,
  logger: Logger,
): Promise<KeepAlive> {
  if (broker.keepAlive) return broker.keepAlive(consumer, queues, ttlMs);
  await broker.heartbeat(consumer, queues, ttlMs);
  let beating = false;
  const timer = setInterval(
    () => {
      if (beating) return;
      beating = true;
      broker
        .heartbeat(consumer, queues, ttlMs)
        .catch((error: unknown) =>
          logger.error("repid: writing the worker's heartbeat failed", { error }),
        )
        .finally(() => (beating = false));
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await broker.heartbeat(consumer, queues, 0);
    },
  };
}

import type { Channel, ConsumeMessage } from "amqplib";

/** The prefetch last set on each channel. */
const prefetches = new WeakMap<Channel, number>();

/** What a burst of consuming took, and whether a queue turned out to be gone. */
export interface Burst<T> {
  readonly taken: T[];
  /** A queue was deleted (RabbitMQ cancelled its consumer, or refused it with 404). */
  readonly missing: boolean;
}

/** A queue to consume: its repid name and its AMQP main queue. */
export interface Source {
  readonly queue: string;
  readonly main: string;
}

/**
 * Consumes from `sources` on `ch`, with a prefetch of `max` per consumer, until `accept` took at
 * least one message, the signal aborts, or the channel closes; then cancels the consumers and
 * resolves, after RabbitMQ confirmed every cancel, with the messages `accept` took (everything
 * RabbitMQ delivered up to the cancel, so possibly more than `max` across several queues).
 *
 * Consumers live only while a receive waits: messages not asked for stay in the queue, where
 * RabbitMQ orders them by priority, instead of in a client buffer.
 *
 * `accept` is called for each delivery, in order; it returns what to resolve with, or
 * `undefined` for a delivery it handles itself (to dead-letter, delay again, put back...).
 */
export function consumeBurst<T>(
  ch: Channel,
  sources: readonly Source[],
  max: number,
  signal: AbortSignal | undefined,
  accept: (raw: ConsumeMessage, source: Source) => T | undefined,
): Promise<Burst<T>> {
  return new Promise((resolve) => {
    const got: T[] = [];
    let missing = false;
    const tags: string[] = [];
    let finishing = false;
    let closed = false;
    let setup: Promise<void> = Promise.resolve();

    const finish = (): void => {
      if (finishing) return;
      finishing = true;
      signal?.removeEventListener("abort", finish);
      void setup
        .then(() => (closed ? undefined : Promise.allSettled(tags.map((t) => ch.cancel(t)))))
        .finally(() => {
          ch.off("close", onClose);
          resolve({ taken: got, missing });
        });
    };
    const onClose = (): void => {
      closed = true;
      finish();
    };
    ch.on("close", onClose);
    signal?.addEventListener("abort", finish, { once: true });
    if (signal?.aborted) return finish();

    setup = (async () => {
      const prefetch = Math.max(1, max);
      // basic.qos applies to consumers started after it, so one per distinct value is enough.
      if (prefetches.get(ch) !== prefetch) {
        prefetches.set(ch, prefetch);
        await ch.prefetch(prefetch);
      }
      // Every queue gets its consumer even once a first message came (it is cancelled at once):
      // a receive from several queues takes from each what RabbitMQ has ready.
      for (const source of sources) {
        if (closed || signal?.aborted) return;
        const { consumerTag } = await ch.consume(
          source.main,
          (raw) => {
            // null: RabbitMQ cancelled the consumer (the queue was deleted).
            if (raw === null) {
              missing = true;
              return finish();
            }
            const taken = accept(raw, source);
            if (taken === undefined) return;
            got.push(taken);
            finish();
          },
          { noAck: false },
        );
        tags.push(consumerTag);
      }
    })().catch((error: unknown) => {
      // The channel failed (it closes, and the session reconnects): resolve with nothing new.
      if ((error as { code?: unknown }).code === 404) missing = true;
      closed = true;
      finish();
    });
  });
}

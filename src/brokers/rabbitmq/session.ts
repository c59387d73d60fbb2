/**
 * One AMQP connection with its channels, reopened on its own after it drops, and publishing
 * under publisher confirms.
 *
 * Channels: `pub` (confirm mode) publishes and declares, `cons` consumes and acks, `probe` asks
 * about queues that may not exist (RabbitMQ closes a channel that asks about a missing queue, so
 * that never touches the other two). Any unexpected close of the connection or of `pub`/`cons`
 * ends the whole connection: its generation ends (every delivery taken on it is fenced off, and
 * RabbitMQ requeues them) and a new connection is opened with backoff.
 */
import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type Options,
} from "amqplib";
import { BrokerError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Task } from "./topology.js";

/** Where to connect: a URL, amqplib connect options, or an open amqplib connection (not owned). */
export type AmqpSource = string | Options.Connect | ChannelModel;

export interface Live {
  readonly model: ChannelModel;
  readonly pub: ConfirmChannel;
  readonly cons: Channel;
  /** Generation of this connection; deliveries carry it in their token. */
  readonly gen: number;
}

/** One message to publish. */
export interface Publication {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
}

export interface SessionOptions {
  readonly heartbeatSeconds: number;
  readonly connectionName: string;
  readonly logger: Logger;
  /** Called once per generation that ends (its deliveries are gone). */
  readonly onLost: (gen: number) => void;
}

const BACKOFF_FIRST_MS = 100;
const POOL_CHANNELS = 8;
const BACKOFF_MAX_MS = 5_000;

export class Session {
  readonly #source: AmqpSource;
  readonly #options: SessionOptions;
  #live: Live | undefined;
  #opening: Promise<Live> | undefined;
  #probe: Promise<Channel> | undefined;
  #pool: Promise<Channel[]> | undefined;
  #gen = 0;
  #closed = true;
  /** Set when a connection we were given (and cannot reopen) closed. */
  #failed: Error | undefined;
  readonly #returned = new Set<string>();
  #seq = 0;

  constructor(source: AmqpSource, options: SessionOptions) {
    this.#source = source;
    this.#options = options;
  }

  get current(): Live | undefined {
    return this.#live;
  }

  /** Opens the first connection; fails when RabbitMQ does not answer. */
  async open(): Promise<void> {
    this.#closed = false;
    this.#failed = undefined;
    await this.live(0);
  }

  /** The open connection, reopening it (with backoff, until `deadline`) if it dropped. */
  async live(deadline = Infinity, signal?: AbortSignal): Promise<Live> {
    if (this.#live) return this.#live;
    let delay = BACKOFF_FIRST_MS;
    for (;;) {
      if (this.#closed) throw new BrokerError("The RabbitMQ broker is disconnected");
      if (this.#failed) throw this.#failed;
      try {
        return await (this.#opening ??= this.#openOnce().finally(
          () => (this.#opening = undefined),
        ));
      } catch (error) {
        if (Date.now() + delay > deadline || signal?.aborted) {
          throw new BrokerError("Could not connect to RabbitMQ", { cause: error });
        }
        this.#options.logger.warn(`repid: connecting to RabbitMQ failed; retrying in ${delay} ms`, {
          error,
        });
        await sleep(delay, signal);
        delay = Math.min(BACKOFF_MAX_MS, delay * 2);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#opening?.catch(() => undefined);
    const live = this.#live;
    const probeOpening = this.#probe;
    const poolOpening = this.#pool;
    this.#live = undefined;
    this.#probe = undefined;
    this.#pool = undefined;
    if (!live) return;
    this.#options.onLost(live.gen);
    if (typeof this.#source === "object" && "createChannel" in this.#source) {
      // Not our connection: close every channel we opened on it, and leave it open.
      const probe = await probeOpening?.catch(() => undefined);
      const pool = (await poolOpening?.catch(() => undefined)) ?? [];
      const channels = [live.pub, live.cons, ...(probe ? [probe] : []), ...pool];
      await Promise.allSettled(channels.map((ch) => ch.close()));
    } else {
      await live.model.close().catch(() => undefined);
    }
  }

  /**
   * Runs RPCs concurrently over a few channels of their own (declaring a queue's 66 objects one
   * RPC at a time takes RabbitMQ half a second). A failing RPC closes only its pool channel.
   */
  async run(tasks: readonly Task[]): Promise<void> {
    const live = await this.live();
    const pool = (this.#pool ??= Promise.all(
      Array.from({ length: POOL_CHANNELS }, () =>
        live.model.createChannel().then((ch) => {
          ch.on("error", () => undefined);
          ch.on("close", () => (this.#pool = undefined));
          return ch;
        }),
      ),
    ));
    const channels = await pool;
    let next = 0;
    await Promise.all(
      channels.map(async (ch) => {
        while (next < tasks.length) await tasks[next++]!(ch);
      }),
    );
  }

  /**
   * Runs `fn` on the probe channel; `undefined` when RabbitMQ answered 404 (the queue does not
   * exist), which closes that channel (the next call opens another).
   */
  async probe<T>(fn: (ch: Channel) => Promise<T>): Promise<T | undefined> {
    const live = await this.live();
    const channel = (this.#probe ??= live.model.createChannel().then((ch) => {
      ch.on("error", () => undefined);
      ch.on("close", () => (this.#probe = undefined));
      return ch;
    }));
    try {
      return await fn(await channel);
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return undefined;
      throw error;
    }
  }

  /**
   * Publishes and resolves once RabbitMQ confirmed every message; retries what was not
   * confirmed on the next connection until `deadline`. Returns the indexes of messages RabbitMQ
   * returned as unroutable (their queue does not exist).
   */
  async publish(items: readonly Publication[], deadline = Infinity): Promise<Set<number>> {
    const returned = new Set<number>();
    let pending = items.map((_, i) => i);
    for (;;) {
      const live = await this.live(deadline);
      const failed: number[] = [];
      await Promise.all(
        pending.map((i) =>
          this.#publishOne(live.pub, items[i]!).then(
            (wasReturned) => void (wasReturned && returned.add(i)),
            () => void failed.push(i),
          ),
        ),
      );
      if (failed.length === 0) return returned;
      if (Date.now() >= deadline || this.#closed) {
        throw new BrokerError(`RabbitMQ did not confirm ${failed.length} message(s)`);
      }
      pending = failed.sort((a, b) => a - b);
    }
  }

  #publishOne(ch: ConfirmChannel, item: Publication): Promise<boolean> {
    const tag = String(++this.#seq);
    const headers = { ...item.options.headers, "x-repid-publish": tag };
    return new Promise<boolean>((resolve, reject) => {
      try {
        ch.publish(
          item.exchange,
          item.routingKey,
          item.content,
          { ...item.options, headers, mandatory: true },
          (error: unknown) => {
            // RabbitMQ sends a basic.return before the confirm of an unroutable message.
            const wasReturned = this.#returned.delete(tag);
            if (error) reject(error instanceof Error ? error : new BrokerError(String(error)));
            else resolve(wasReturned);
          },
        );
      } catch (error) {
        reject(error instanceof Error ? error : new BrokerError(String(error)));
      }
    });
  }

  async #openOnce(): Promise<Live> {
    const source = this.#source;
    const given = typeof source === "object" && "createChannel" in source;
    const model = given
      ? source
      : await connect(withHeartbeat(source, this.#options.heartbeatSeconds), {
          clientProperties: { connection_name: this.#options.connectionName },
          // Without it, Nagle's algorithm holds small frames (acks, then an RPC) ~40 ms.
          noDelay: true,
        });
    let pub: ConfirmChannel;
    let cons: Channel;
    try {
      pub = await model.createConfirmChannel();
      cons = await model.createChannel();
    } catch (error) {
      if (!given) await model.close().catch(() => undefined);
      throw error;
    }
    const live: Live = { model, pub, cons, gen: ++this.#gen };
    const lost = (why: string, error?: unknown): void => {
      if (this.#live !== live) return;
      this.#live = undefined;
      this.#probe = undefined;
      this.#pool = undefined;
      this.#options.onLost(live.gen);
      if (this.#closed) return;
      if (/acknowledgement .*timed out/i.test(String((error as Error | undefined)?.message))) {
        // Every delivery of the channel comes back; a job that long needs a longer timeout.
        this.#options.logger.error(
          "repid: RabbitMQ closed the consumer channel because a delivery stayed unacknowledged longer than its consumer_timeout (30 min by default); raise consumer_timeout in rabbitmq.conf above your longest job",
          { error },
        );
      }
      this.#options.logger.warn(`repid: RabbitMQ ${why}; reconnecting`, { error });
      if (given) {
        this.#failed = new BrokerError(
          "The amqplib connection given to RabbitMQMessageBroker closed; it cannot be reopened from here",
          { cause: error },
        );
        return;
      }
      void model.close().catch(() => undefined);
      // Reconnect at once, so that waiting consumers resume without being asked.
      void this.live().catch(() => undefined);
    };
    model.on("error", (error: unknown) => lost("connection failed", error));
    model.on("close", (error: unknown) => lost("connection closed", error));
    for (const ch of [pub, cons]) {
      ch.on("error", (error: unknown) => lost("channel failed", error));
      ch.on("close", () => lost("channel closed"));
    }
    pub.on("return", (msg: { properties: { headers?: Record<string, unknown> } }) => {
      const tag = msg.properties.headers?.["x-repid-publish"];
      if (typeof tag === "string") this.#returned.add(tag);
    });
    if (this.#closed) {
      await (given ? Promise.allSettled([pub.close(), cons.close()]) : model.close());
      throw new BrokerError("The RabbitMQ broker is disconnected");
    }
    this.#live = live;
    return live;
  }
}

/** The AMQP heartbeat lets RabbitMQ notice a silent peer; an explicit one in the source wins. */
function withHeartbeat(
  source: string | Options.Connect,
  seconds: number,
): string | Options.Connect {
  if (typeof source !== "string") return { heartbeat: seconds, ...source };
  if (/[?&]heartbeat=/.test(source)) return source;
  return `${source}${source.includes("?") ? "&" : "?"}heartbeat=${seconds}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

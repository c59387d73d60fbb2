/**
 * How the RabbitMQ broker ends the deliveries it holds: settlements, leases that ended, arrivals
 * that must go elsewhere (delayed, malformed, past `maxStalls`). Whatever replaces a delivery (a
 * requeued, delayed or dead-lettered copy) is published and confirmed by RabbitMQ first, and only
 * then is the delivery acked, on the connection it arrived on: a crash in between leaves the
 * original to be redelivered, never a lost message.
 */
import type { ConsumeMessage } from "amqplib";
import type { Logger } from "../../core/logger.js";
import type { Settlement } from "../broker.js";
import type { Held, Leases } from "./leases.js";
import { endedReplacement, settlementPublication } from "./publications.js";
import type { Live, Publication, Session } from "./session.js";
import type { QueueNames } from "./topology.js";

/** What the settler needs from the broker. */
export interface SettlerDeps {
  readonly session: Session;
  readonly leases: Leases;
  readonly logger: Logger;
  readonly maxStalls: number;
  names(queue: string): QueueNames;
}

export class Settler {
  readonly #d: SettlerDeps;
  #warnedResults = false;

  constructor(deps: SettlerDeps) {
    this.#d = deps;
  }

  /** Applies settlements (see `MessageBroker.settle`). */
  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    const { session, leases, logger } = this.#d;
    const now = Date.now();
    const live = session.current;
    const taken = settlements.map((s) => {
      const held = leases.take(s.delivery.token);
      return held && live && held.gen === live.gen ? held : undefined;
    });
    if (!live) return settlements.map(() => false);
    if (!this.#warnedResults && settlements.some((s) => s.result)) {
      this.#warnedResults = true;
      logger.warn(
        "repid: RabbitMQ keeps no results; a job's result was dropped (pass `results` to the Connection)",
      );
    }
    // Each replacement confirmed before its delivery is acked, on this connection only: a
    // settlement never outlives the channel its delivery is on.
    const applied = await Promise.all(
      settlements.map(async (s, i) => {
        const held = taken[i];
        if (!held || s.kind === "ack") return held !== undefined;
        const names = this.#d.names(held.message.queue);
        try {
          await session.publish([settlementPublication(names, s, held.message, now)], 0);
          return true;
        } catch (error) {
          logger.warn("repid: RabbitMQ did not confirm a settlement; it was not applied", {
            error,
          });
          return false;
        }
      }),
    );
    if (session.current !== live) return settlements.map(() => false);
    taken.forEach((held, i) => {
      if (held && applied[i]) live.cons.ack(held.raw);
      // Not confirmed: back to the queue (counted as a stall, as a lost lease would be).
      else if (held) live.cons.nack(held.raw, false, true);
    });
    return applied;
  }

  /** Ends leases that expired (or whose consumer did): back with `stalls` + 1, or dead. */
  async endLeases(): Promise<void> {
    const { session, leases, logger, maxStalls } = this.#d;
    if (leases.size === 0) return;
    const ended = leases.ended(Date.now());
    const live = session.current;
    if (ended.length === 0 || !live) return;
    const now = Date.now();
    await this.replace(live, ended, (h) =>
      endedReplacement(this.#d.names(h.message.queue), h.message, maxStalls, now),
    ).catch((error: unknown) =>
      logger.warn("repid: putting back expired RabbitMQ deliveries failed", { error }),
    );
  }

  /** Publishes what replaces each delivery (confirmed), then acks the deliveries. */
  async replace(
    live: Live,
    held: readonly Held[],
    make: (h: Held) => Publication | Publication[],
  ): Promise<void> {
    const { session } = this.#d;
    const current = held.filter((h) => h.gen === live.gen);
    await session.publish(current.flatMap(make), 0);
    if (session.current === live) for (const h of current) live.cons.ack(h.raw);
  }

  /** Publishes what replaces one arriving delivery (confirmed), then acks it. */
  async replaceRaw(live: Live, raw: ConsumeMessage, pubs: Publication[]): Promise<void> {
    const { session, logger } = this.#d;
    try {
      await session.publish(pubs, 0);
      if (session.current === live) live.cons.ack(raw);
    } catch (error) {
      logger.warn("repid: re-routing a RabbitMQ delivery failed; RabbitMQ will redeliver it", {
        error,
      });
    }
  }
}

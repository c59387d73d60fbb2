import type { Delivery, MessageBroker } from "../../brokers/broker.js";
import type { Logger } from "../../core/logger.js";
import type { RunState } from "./run-state.js";

/** What the receive loop needs of its run. */
export interface ReceiveHost {
  readonly broker: MessageBroker;
  readonly state: RunState;
  readonly logger: Logger;
  readonly queues: readonly string[];
  readonly consumer: string;
  readonly concurrency: number;
  /** Messages to hold ahead of free slots, asked before each receive (see prefetch.ts). */
  prefetch(): number;
  /** `messagesLimit`: the loop ends after receiving this many. */
  readonly limit: number;
  readonly leaseMs: number;
  /** Aborted when the run leaves `receiving`: a receive in progress returns. */
  readonly signal: AbortSignal;
  /** Deliveries running or waiting in the prefetch buffer. */
  held(): number;
  /** Runs before each receive: settlements decided so far go out first. */
  beforeReceive(): void;
  /** Takes what a receive sent at `sentAt` (local epoch ms) returned. */
  received(deliveries: readonly Delivery[], sentAt: number): void;
  /** The last receive failed (`undefined` when one starts). */
  receiveFailed(error: unknown): void;
}

/**
 * Receives while the run is `receiving` and under its limit: one receive whenever a quarter of
 * slots + prefetch is free, so that one round trip fetches many messages instead of one per
 * finished job. A failed receive is logged and tried again a second later.
 */
export async function receiveLoop(host: ReceiveHost): Promise<void> {
  const { state, queues, concurrency, limit, leaseMs, signal, consumer } = host;
  // No actors, no queues to read: wait for a stop (as repid's bare `Worker().run()` does).
  if (queues.length === 0) return state.until(() => state.phase !== "receiving");
  let received = 0;
  while (state.phase === "receiving" && received < limit) {
    const capacity = concurrency + host.prefetch();
    const refillAt = capacity - Math.max(1, Math.floor(capacity / 4));
    const held = host.held();
    if (held > refillAt) {
      await state.nextChange();
      continue;
    }
    const max = Math.min(capacity - held, limit - received);
    // After a stall, a receive that recovers expired leases must not overtake this worker's own
    // pending settlements.
    host.beforeReceive();
    const sentAt = Date.now();
    let deliveries: Delivery[];
    host.receiveFailed(undefined);
    try {
      deliveries = await host.broker.receive(queues, { max, leaseMs, signal, consumer });
    } catch (error) {
      host.receiveFailed(error);
      host.logger.error("repid: receiving messages failed; retrying in 1 s", { error });
      await sleep(1000, signal);
      continue;
    }
    // The contract says receive waits; a broker that returns empty anyway must not starve the
    // event loop.
    if (deliveries.length === 0) await new Promise((resolve) => setImmediate(resolve));
    received += deliveries.length;
    host.received(deliveries, sentAt);
    if (state.stopping) break;
  }
}

/** Waits `ms`, or less when `signal` aborts meanwhile. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener("abort", wake);
  });
}

/**
 * Starts a worker's health server: the only path to `./health.ts` (and `node:http`), imported
 * when a worker that has the `health` option runs.
 */
import type { MessageBroker } from "../brokers/broker.js";
import type { Hooks } from "../core/hooks.js";
import type { Logger } from "../core/logger.js";
import { findMetrics, type HealthSettings } from "./health-options.js";

/** A running health server (see `./health.ts`). */
export interface RunningHealth {
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

/**
 * Starts a worker's health server, loading `node:http` and the server only now. The metrics
 * served are `settings.metrics`, else the first of `hooks` that carries some.
 */
export async function startHealth(
  settings: HealthSettings,
  deps: {
    readonly broker: Pick<MessageBroker, "queueExists">;
    readonly queues: readonly string[];
    readonly run: { readonly stopping: boolean; readonly receiveError: unknown };
    readonly hooks: readonly Hooks[];
    readonly logger: Logger;
  },
): Promise<RunningHealth> {
  const { HealthServer } = await import("./health.js");
  return HealthServer.start(settings, {
    broker: deps.broker,
    queue: deps.queues[0] ?? "default",
    run: deps.run,
    metrics: settings.metrics ?? findMetrics(deps.hooks),
    logger: deps.logger,
  });
}

import { availableParallelism, constants } from "node:os";
import type { Connection } from "../connection/connection.js";
import type { Hooks } from "../core/hooks.js";
import { toMs, type Duration } from "../core/duration.js";
import { InvalidOptionError } from "../core/errors.js";
import { refuseInExecutor } from "../core/executor-flag.js";
import { healthSettings, type HealthOptions, type HealthSettings } from "../ops/health-options.js";
import { startHealth } from "../ops/start-health.js";
import { WorkerRun } from "./run/worker-run.js";
import { declareLimits } from "../brokers/declare-limits.js";
import type { WorkerRunner } from "./run/run-report.js";
import {
  checkKnownKeys,
  checkNonNegativeInteger,
  checkObject,
  checkPositiveInteger,
} from "../core/validate.js";
import { silentLogger, type Logger } from "../core/logger.js";
import type { Registry } from "../core/registry.js";
import { resolveConnection } from "../connection/repid.js";
import { Router, type Actor } from "./router.js";
import type { PrefetchSetting } from "./run/prefetch.js";

export interface WorkerOptions {
  /** Routers whose actors this worker runs. */
  readonly routers?: readonly Router[];
  /** Time running actors get to finish after a stop is asked for. @defaultValue "25s" */
  readonly gracefulShutdownTime?: Duration;
  /** Stop after receiving this many messages. @defaultValue Infinity */
  readonly messagesLimit?: number;
  /**
   * Signals that start a graceful shutdown. A second one forces it, unless it arrives within
   * 500 ms of the first: then it is taken for a copy of the first (a terminal sends Ctrl-C to the
   * whole process group, and wrappers such as tsx or npm relay it once more). A forced stop aborts
   * every running actor's `ctx.signal` (an actor's duty is to end when it aborts), and the process
   * exits a second later (code 128 + the signal's number) if something still holds it.
   * @defaultValue ["SIGINT", "SIGTERM"]
   */
  readonly handleSignals?: readonly NodeJS.Signals[];
  /** Declare the queues of the actors when `run()` starts. @defaultValue true */
  readonly autoDeclare?: boolean;
  /** Messages processed at once. @defaultValue 100 */
  readonly concurrency?: number;
  /**
   * Messages received ahead of free slots, so that the next job starts without waiting for a
   * round trip to the broker. They are leased while they wait (a crash returns them to the queue
   * like running ones), so a higher-priority message arriving meanwhile runs after them.
   * `0` receives only for free slots. `"auto"` holds about 5 ms of its slots' work, judged from
   * its jobs' recent durations: 10 for slow jobs, up to 16 × `concurrency` (at most 1,000) for
   * fast ones, whose batches then share each round trip. @defaultValue "auto"
   */
  readonly prefetch?: number | "auto";
  /** Worker threads (and child processes) for sync actors. @defaultValue the number of CPUs */
  readonly threads?: number;
  /** Lease on each received message, renewed while it runs. @defaultValue "30s" */
  readonly leaseTime?: Duration;
  /** Generated registry: payloads are validated with its schemas before an actor sees them. */
  readonly registry?: Registry;
  /** Use this connection instead of the ambient `magic()` one. */
  readonly connection?: Connection;
  /** @defaultValue the connection's logger */
  readonly logger?: Logger;
  /** Lifecycle hooks for this worker only, after the connection's. @defaultValue [] */
  readonly hooks?: readonly Hooks[];
  /**
   * An HTTP server for probes and scrapes, up while `run()` runs: `/healthz` (the event loop
   * keeps up), `/readyz` (the broker answers and receiving works; not once stopping), `/metrics`
   * (Prometheus text of `repid/metrics`, when its hooks are registered). @defaultValue none
   */
  readonly health?: HealthOptions;
}

export type { WorkerRunner } from "./run/run-report.js";

/**
 * A worker's heartbeat lives this long: a crashed worker's messages are recovered about this
 * long after it died (its leases, renewed for long jobs, are not waited out).
 */
const HEARTBEAT_MS = 3_000;

/** How long after a forced stop the process may still run before the worker ends it. */
const FORCED_EXIT_MS = 1000;

const KNOWN = [
  "routers",
  "gracefulShutdownTime",
  "messagesLimit",
  "handleSignals",
  "autoDeclare",
  "concurrency",
  "prefetch",
  "threads",
  "leaseTime",
  "registry",
  "connection",
  "logger",
  "hooks",
  "health",
] as const;

/**
 * Receives messages and runs the matching actors. A Worker is also a Router.
 * @example
 * const runner = await new Worker({ routers: [router], messagesLimit: 1 }).run();
 */
export class Worker extends Router {
  readonly #options: WorkerOptions;
  readonly #graceMs: number;
  readonly #limit: number;
  readonly #concurrency: number;
  readonly #prefetch: PrefetchSetting;
  readonly #leaseMs: number;
  readonly #health: HealthSettings | undefined;
  #healthAddress: { readonly host: string; readonly port: number } | undefined;
  #logger: Logger;
  #current: WorkerRun | undefined;
  #starting = false;
  #stopEarly = false;

  constructor(options: WorkerOptions = {}) {
    super();
    checkKnownKeys("Worker", checkObject("options", options), KNOWN);
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#graceMs = toMs(options.gracefulShutdownTime ?? 25_000, "gracefulShutdownTime");
    this.#limit = checkPositiveInteger("messagesLimit", options.messagesLimit ?? Infinity);
    this.#concurrency = checkPositiveInteger("concurrency", options.concurrency ?? 100);
    this.#prefetch = prefetchSetting(options.prefetch);
    this.#leaseMs = toMs(options.leaseTime ?? 30_000, "leaseTime");
    if (this.#leaseMs < 100) throw new InvalidOptionError("leaseTime", "must be at least 100 ms");
    if (options.threads !== undefined) checkPositiveInteger("threads", options.threads);
    this.#health = options.health === undefined ? undefined : healthSettings(options.health);
    if (options.handleSignals !== undefined && !Array.isArray(options.handleSignals)) {
      throw new InvalidOptionError("handleSignals", "expected an array of signal names");
    }
    for (const router of options.routers ?? []) this.includeRouter(router);
  }

  /** Adds every actor of `router`; an actor with an existing name replaces it (with a warning). */
  includeRouter(router: Router): this {
    if (!(router instanceof Router))
      throw new InvalidOptionError("routers", "expected Router instances");
    for (const actor of router.actors.values()) this.register(actor);
    return this;
  }

  protected override register(actor: Actor): Actor | undefined {
    const previous = super.register(actor);
    if (previous) {
      this.#logger.warn(
        `repid: actor "${actor.name}" registered twice; the later one replaces the earlier`,
        {
          actor: actor.name,
        },
      );
    }
    return previous;
  }

  /** Where the `health` server listens while `run()` runs (its real port when given `0`). */
  get healthAddress(): { readonly host: string; readonly port: number } | undefined {
    return this.#healthAddress;
  }

  /** Asks a running (or starting) worker to stop gracefully, as a handled signal does. */
  stop(): void {
    if (this.#current) this.#current.stop();
    else if (this.#starting) this.#stopEarly = true;
  }

  /**
   * Declares the actors' queues (unless `autoDeclare: false`), then receives and runs messages
   * until a handled signal, `stop()` or `messagesLimit`; then shuts down gracefully.
   */
  async run(): Promise<WorkerRunner> {
    refuseInExecutor("Worker.run()");
    this.#starting = true;
    this.#stopEarly = false;
    try {
      const connection = resolveConnection(this.#options.connection);
      const logger = (this.#logger = this.#options.logger ?? connection.logger);
      await connection.connect();
      const broker = connection.broker;
      const queues = [...new Set([...this.actors.values()].map((a) => a.queue))].sort();
      if (this.#options.autoDeclare ?? true) {
        for (const queue of queues) await broker.declareQueue(queue);
      }
      await declareLimits(broker, this.actors.values());
      const run = new WorkerRun(
        {
          actors: this.actors,
          registry: this.#options.registry,
          queues,
          concurrency: this.#concurrency,
          prefetch: this.#prefetch,
          limit: this.#limit,
          leaseMs: this.#leaseMs,
          graceMs: this.#graceMs,
          threads: this.#options.threads ?? availableParallelism(),
          heartbeatMs: HEARTBEAT_MS,
          logger,
          hooks: connection.hookSet.with(this.#options.hooks ?? [], logger),
        },
        broker,
      );
      const health =
        this.#health &&
        (await startHealth(this.#health, {
          broker,
          queues,
          run,
          hooks: [...connection.hookSet.all, ...(this.#options.hooks ?? [])],
          logger,
        }));
      this.#healthAddress = health?.address;
      // Ctrl-C reaches the terminal's whole process group, and a wrapper in it (tsx, npm, a
      // shell script) may relay it once more: copies arriving within ECHO_MS of the first handled
      // signal are that same request. A person pressing Ctrl-C again takes longer than that.
      const ECHO_MS = 500;
      let firstSignalAt: number | undefined;
      const onSignal = (signal: NodeJS.Signals): void => {
        const now = performance.now();
        if (firstSignalAt !== undefined && now - firstSignalAt < ECHO_MS) {
          logger.info(
            `repid: ${signal} received again within ${ECHO_MS} ms, taken as the same request (send it again to force the stop)`,
          );
          return;
        }
        firstSignalAt ??= now;
        logger.info(
          `repid: ${signal} received, ${run.stopping ? "forcing stop" : "shutting down"}`,
        );
        if (!run.stopping) {
          run.stop();
          return;
        }
        run.force();
        // A second signal asks for the process to end: an actor that ignores ctx.signal (a
        // timer, a socket of its own) must not keep it alive. What could be settled was given
        // back by then; the rest returns when its leases expire.
        setTimeout(() => {
          logger.warn(
            `repid: forced stop: work that ignores ctx.signal still holds the process; exiting`,
          );
          process.exit(128 + (constants.signals[signal] ?? 0));
        }, FORCED_EXIT_MS).unref();
      };
      const signals = this.#options.handleSignals ?? ["SIGINT", "SIGTERM"];
      for (const signal of signals) process.on(signal, onSignal);
      this.#current = run;
      if (this.#stopEarly) run.stop();
      try {
        return await run.run();
      } finally {
        this.#current = undefined;
        for (const signal of signals) process.off(signal, onSignal);
        this.#healthAddress = undefined;
        await health?.close();
      }
    } finally {
      this.#starting = false;
    }
  }
}

function prefetchSetting(value: unknown): PrefetchSetting {
  if (value === undefined || value === "auto") return "auto";
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  throw new InvalidOptionError(
    "prefetch",
    `expected a non-negative integer or "auto", got ${JSON.stringify(value)}`,
  );
}

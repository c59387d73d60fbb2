/**
 * The health server of a `Worker` (its `health` option), on `node:http`, up while `run()` runs:
 *
 * - `GET /healthz`, liveness: 200 while the event loop keeps up; 503 when it lagged more than
 *   `maxEventLoopLag` over the last second (or is lagging now: a request answered late by a
 *   blocked loop reports the block). Restarting a process stuck this way is the cure.
 * - `GET /readyz`, readiness: 200 while the broker answers a light request within
 *   `brokerTimeout` and the run's last receive succeeded; 503 while the broker is unreachable or
 *   receiving fails, and once the worker stops.
 * - `GET /metrics`: the Prometheus text of the metrics endpoint (404 when there is none).
 *
 * Answers are small JSON documents saying why. Probes are cheap: one timer measures the loop,
 * and one broker request at a time serves every readiness probe of the next second.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MessageBroker } from "../brokers/broker.js";
import { InvalidOptionError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { HealthSettings, MetricsEndpoint } from "./health-options.js";

/** Where the health server listens. */
export interface HealthAddress {
  readonly host: string;
  readonly port: number;
}

/** What the server watches. */
export interface HealthDeps {
  /** Pinged (with `queueExists`) for readiness. */
  readonly broker: Pick<MessageBroker, "queueExists">;
  /** A queue name to ask about. */
  readonly queue: string;
  /** The run: not ready once it is stopping, nor while its receives fail. */
  readonly run: { readonly stopping: boolean; readonly receiveError: unknown };
  readonly metrics: MetricsEndpoint | undefined;
  readonly logger: Logger;
}

/** How often the event loop's lag is sampled, and how many samples make "recent". */
const SAMPLE_MS = 100;
const SAMPLES = 10;
/** A readiness answer is reused this long (probes of several kinds and scrapers share it). */
const READY_CACHE_MS = 1_000;

/**
 * Measures how late a repeating timer fires: a loop blocked for N ms delays it by about N.
 * The largest lag of the last `SAMPLES` ticks is the recent lag.
 */
export class LagMonitor {
  readonly #samples = new Float64Array(SAMPLES);
  #next = 0;
  #last = performance.now();
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#samples[this.#next] = Math.max(0, now - this.#last - SAMPLE_MS);
      this.#next = (this.#next + 1) % SAMPLES;
      this.#last = now;
    }, SAMPLE_MS);
    this.#timer.unref();
  }

  /** The largest recent lag in ms, including a block the timer has not seen yet. */
  get lagMs(): number {
    const ongoing = performance.now() - this.#last - SAMPLE_MS;
    return Math.max(ongoing, ...this.#samples);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** The server; `start()` resolves once it listens. */
export class HealthServer {
  readonly #settings: HealthSettings;
  readonly #deps: HealthDeps;
  readonly #lag = new LagMonitor();
  readonly #server: Server;
  #ready: { at: number; answer: Promise<Readiness> } | undefined;

  private constructor(settings: HealthSettings, deps: HealthDeps) {
    this.#settings = settings;
    this.#deps = deps;
    this.#server = createServer((request, response) => void this.#answer(request, response));
  }

  /** Listens on `settings.host:settings.port`; throws `InvalidOptionError` when it cannot. */
  static async start(settings: HealthSettings, deps: HealthDeps): Promise<HealthServer> {
    const health = new HealthServer(settings, deps);
    try {
      await new Promise<void>((resolve, reject) => {
        health.#server.once("error", reject);
        health.#server.listen(settings.port, settings.host, () => {
          health.#server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      health.#lag.stop();
      throw new InvalidOptionError(
        "health",
        `cannot listen on ${settings.host}:${settings.port} (${(error as Error).message})`,
      );
    }
    return health;
  }

  get address(): HealthAddress {
    const address = this.#server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  /** Stops listening and closes open connections (keep-alive ones included). */
  async close(): Promise<void> {
    this.#lag.stop();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      if (request.method !== "GET" && request.method !== "HEAD") {
        return send(response, 405, { error: "only GET and HEAD" });
      }
      const path = (request.url ?? "/").split("?", 1)[0];
      switch (path) {
        case "/healthz":
          return this.#live(response);
        case "/readyz": {
          const readiness = await this.#readiness();
          return send(response, readiness.ready ? 200 : 503, {
            status: readiness.ready ? "ready" : "not ready",
            ...(readiness.ready ? {} : { reason: readiness.reason }),
          });
        }
        case "/metrics":
          return await this.#metrics(response);
        default:
          return send(response, 404, { error: "not found: try /healthz, /readyz or /metrics" });
      }
    } catch (error) {
      this.#deps.logger.warn(`repid: the health server failed to answer ${request.url}`, {
        error,
      });
      if (!response.headersSent) send(response, 500, { error: "internal error" });
      else response.destroy();
    }
  }

  #live(response: ServerResponse): void {
    const lagMs = Math.round(this.#lag.lagMs);
    const max = this.#settings.maxLagMs;
    if (lagMs <= max) return send(response, 200, { status: "ok", eventLoopLagMs: lagMs });
    send(response, 503, {
      status: "event loop blocked",
      eventLoopLagMs: lagMs,
      maxEventLoopLagMs: max,
    });
  }

  #readiness(): Promise<Readiness> {
    const run = this.#deps.run;
    if (run.stopping) return Promise.resolve({ ready: false, reason: "stopping" });
    if (run.receiveError !== undefined) {
      return Promise.resolve({
        ready: false,
        reason: `receiving messages failed: ${describe(run.receiveError)}`,
      });
    }
    const now = performance.now();
    if (!this.#ready || now - this.#ready.at >= READY_CACHE_MS) {
      this.#ready = { at: now, answer: this.#ping() };
    }
    return this.#ready.answer;
  }

  async #ping(): Promise<Readiness> {
    const timeoutMs = this.#settings.brokerTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Readiness>((resolve) => {
      timer = setTimeout(
        () => resolve({ ready: false, reason: `the broker did not answer within ${timeoutMs} ms` }),
        timeoutMs,
      );
    });
    const asked = this.#deps.broker.queueExists(this.#deps.queue).then(
      (): Readiness => ({ ready: true }),
      (error: unknown): Readiness => ({
        ready: false,
        reason: `the broker failed: ${describe(error)}`,
      }),
    );
    try {
      return await Promise.race([asked, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #metrics(response: ServerResponse): Promise<void> {
    const metrics = this.#deps.metrics;
    if (!metrics) {
      return send(response, 404, {
        error: "no metrics: register prometheusMetrics().hooks from repid/metrics",
      });
    }
    const text = await metrics.scrape();
    response.writeHead(200, { "content-type": metrics.contentType });
    response.end(text);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  response.end(`${JSON.stringify(body)}\n`);
}

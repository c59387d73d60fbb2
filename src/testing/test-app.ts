import type { z } from "zod";
import { InMemoryMessageBroker } from "../brokers/in-memory/in-memory-broker.js";
import { Connection } from "../connection/connection.js";
import { toMs, type Duration } from "../core/duration.js";
import { InvalidOptionError, NoRetryError } from "../core/errors.js";
import { silentLogger, type Logger } from "../core/logger.js";
import type { Registry } from "../core/registry.js";
import { createClient, type RegistryClient } from "../producer/registry-client.js";
import { Repid } from "../connection/repid.js";
import type { ActorContext, Router } from "../worker/router.js";
import { Worker, type WorkerRunner } from "../worker/worker.js";
import { TestBroker, type EnqueuedMessage } from "./test-broker.js";

/** Options of `createTestApp`. */
export interface TestAppOptions<R extends Registry = Registry> {
  /** The routers whose actors run, as a worker would run them. */
  readonly routers?: readonly Router[];
  /**
   * The generated registry: `jobs` is its client, producers' arguments and workers' payloads are
   * validated with its schemas as in production, and `enqueued()` and `mock()` are typed by it.
   */
  readonly registry?: R;
  /**
   * Run jobs as they are enqueued: `await enqueue()` returns once the actor has run. With
   * `false`, jobs wait in their queue until `drain()` (to assert on what a producer sent, or on
   * queue counts, before anything runs). @defaultValue true
   */
  readonly inline?: boolean;
  /** Messages run at once by the test worker. @defaultValue 100 */
  readonly concurrency?: number;
  /**
   * Where the test connection and worker log (retries, dead letters). Tests usually read
   * outcomes from results and dead letters instead. @defaultValue silentLogger
   */
  readonly logger?: Logger;
}

/** The actor names of a registry (any string without one). */
export type ActorNameOf<R extends Registry> = Extract<keyof R, string>;
/** What actor `K` receives: its arguments after the registry's schema. */
export type ActorArgsOf<R extends Registry, K extends keyof R> = z.output<R[K]["args"]>;
/** What actor `K` returns. */
export type ActorResultOf<R extends Registry, K extends keyof R> = z.input<R[K]["result"]>;
/** A stand-in for actor `K` during a test. */
export type ActorMock<R extends Registry, K extends keyof R> = (
  args: ActorArgsOf<R, K>,
  context: ActorContext,
) => ActorResultOf<R, K> | Promise<ActorResultOf<R, K>>;

const ONE_DAY = "1d";

/**
 * A repid application for tests: an in-memory broker, a worker running the given actors in this
 * process, and the controls a test needs. Create one per test and `close()` it after.
 * @example
 * const testing = await createTestApp({ routers: [router], registry });
 * await testing.magic(() => jobs.sendEmail.enqueue({ to: "ada@example.com", subject: "Hi", body: "" }));
 * expect(testing.enqueued("send_email")).toEqual([{ to: "ada@example.com", subject: "Hi", body: "" }]);
 * await testing.close();
 */
export async function createTestApp<R extends Registry = Registry>(
  options: TestAppOptions<R> = {},
): Promise<TestApp<R>> {
  const app = new TestApp<R>(options);
  await app.start();
  return app;
}

/**
 * See `createTestApp`. Sync actors run on the test's own thread (not in worker threads), so that
 * mocks, spies and breakpoints reach every actor; everything else (validation, retries and their
 * policies, results, dead letters, priorities) behaves as in production.
 *
 * Time: the test app's queue clock stands still except when `advance()` moves it. A job deferred
 * by an hour, a retry after its backoff and the next run of a periodic job wait until the test
 * advances the clock past their time. (Only the queue's clock: `Date.now()` in your code is the
 * real one.)
 */
export class TestApp<R extends Registry = Registry> {
  /** The connection, for code that takes one explicitly. */
  readonly connection: Connection;
  /** The application; `magic()` runs code with the test connection as the ambient one. */
  readonly app: Repid;
  /** The registry's typed client on the test connection (empty without a registry). */
  readonly jobs: RegistryClient<R>;
  readonly #broker: TestBroker;
  readonly #registry: R | undefined;
  readonly #worker: Worker;
  readonly #mocks = new Map<string, ActorMock<R, keyof R>>();
  #running: Promise<WorkerRunner> | undefined;

  /**
   * Use `createTestApp`, which also starts the worker: until `start()`, jobs are only recorded
   * and queued, and no enqueue waits for them.
   */
  constructor(options: TestAppOptions<R> = {}) {
    this.#registry = options.registry;
    const actors = new Map<string, { queue: string; run: ActorMockOrFn; options: object }>();
    for (const router of options.routers ?? []) {
      for (const actor of router.actors.values()) {
        actors.set(actor.name, {
          queue: actor.queue,
          run: actor.fn,
          options: {
            retryPolicy: actor.retryPolicy,
            ...(actor.timeoutMs !== undefined ? { timeout: actor.timeoutMs } : {}),
            ...(actor.resultTtlMs !== undefined ? { storeResult: actor.resultTtlMs } : {}),
          },
        });
      }
    }
    // An actor the registry knows but no router registers runs only when mocked.
    for (const definition of Object.values(options.registry ?? {})) {
      if (actors.has(definition.name)) continue;
      actors.set(definition.name, {
        queue: definition.queue,
        run: undefined,
        options: definition.storeResult ? { storeResult: definition.storeResult } : {},
      });
    }
    const inner = new InMemoryMessageBroker();
    this.#broker = new TestBroker(inner, options.inline ?? true, Date.now());
    const logger = options.logger ?? silentLogger;
    this.connection = new Connection(this.#broker.broker, { logger });
    this.app = new Repid(this.connection);
    this.jobs = createClient((options.registry ?? {}) as R, this.connection);
    this.#worker = new Worker({
      connection: this.connection,
      handleSignals: [],
      leaseTime: ONE_DAY,
      gracefulShutdownTime: "1s",
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      logger,
    });
    const mocks = this.#mocks;
    for (const [name, actor] of actors) {
      // Every actor runs through a stand-in that calls the mock of the moment, else the actor.
      const standIn = async (args: unknown, context: ActorContext): Promise<unknown> => {
        const run = mocks.get(name) ?? actor.run;
        if (!run) {
          throw new NoRetryError(
            `Actor "${name}" is in the registry but in no router given to createTestApp, and is not mocked`,
          );
        }
        return (run as (args: unknown, context: ActorContext) => unknown)(args, context);
      };
      this.#worker.actor({ ...actor.options, name, queue: actor.queue }, standIn);
    }
  }

  /** Declares the actors' queues and starts the worker (done by `createTestApp`). */
  async start(): Promise<void> {
    if (this.#running) return;
    await this.connection.connect();
    const queues = new Set([...this.#worker.actors.values()].map((a) => a.queue));
    for (const queue of queues) await this.connection.broker.declareQueue(queue);
    this.#running = this.#worker.run();
    this.#broker.serve(queues);
  }

  /** Runs `fn` with the test connection as the ambient one (for `jobs`, `Job`, `Queue`). */
  magic<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.app.magic(fn);
  }

  /** The test queue clock, in epoch milliseconds (see the class comment). */
  now(): number {
    return this.#broker.now;
  }

  /**
   * Moves the queue clock forward by `by`, running every job that falls due on the way in the
   * order of their times (a job every minute runs 60 times in `advance("1h")`).
   */
  async advance(by: Duration): Promise<void> {
    await this.#broker.advance(toMs(by, "by"));
  }

  /**
   * Runs everything ready until the queues the actors read are idle: nothing ready or running
   * (what waits for the clock keeps waiting). Needed only with `inline: false`, or for jobs
   * enqueued without awaiting.
   */
  async drain(): Promise<void> {
    await this.#broker.idle();
  }

  /**
   * The arguments of every job enqueued for `actor` so far, oldest first, as the actor receives
   * them (through the registry's schema when there is one, else the JSON value).
   * @example expect(testing.enqueued("send_email")).toEqual([{ to: "ada@example.com" }]);
   */
  enqueued<K extends ActorNameOf<R>>(actor: K): ActorArgsOf<R, K>[] {
    const schema = this.#registry?.[actor]?.args;
    return this.messages(actor).map((m) => {
      const value: unknown = m.payload === undefined ? undefined : JSON.parse(m.payload);
      const parsed = schema?.safeParse(value);
      return (parsed?.success ? parsed.data : value) as ActorArgsOf<R, K>;
    });
  }

  /** Every message enqueued so far (of `actor`, when given), oldest first, with its options. */
  messages(actor?: ActorNameOf<R>): EnqueuedMessage[] {
    return this.#broker.enqueued.filter((m) => actor === undefined || m.actor === actor);
  }

  /**
   * Runs `fn` in place of `actor` until the returned function is called, `restoreMocks()` or
   * `close()`. The worker's own handling stays: validation, retries, results.
   * @example testing.mock("charge_card", async () => { throw new NoRetryError("card declined"); });
   */
  mock<K extends ActorNameOf<R>>(actor: K, fn: ActorMock<R, K>): () => void {
    if (!this.#worker.actors.has(actor)) {
      throw new InvalidOptionError(
        "actor",
        `no actor named "${actor}" in the routers or registry given to createTestApp`,
      );
    }
    const mock = fn as ActorMock<R, keyof R>;
    this.#mocks.set(actor, mock);
    return () => {
      if (this.#mocks.get(actor) === mock) this.#mocks.delete(actor);
    };
  }

  /** Ends every mock: the actors themselves run again. */
  restoreMocks(): void {
    this.#mocks.clear();
  }

  /** Stops the worker and closes the connection. Returns what the worker did. */
  async close(): Promise<WorkerRunner | undefined> {
    this.#mocks.clear();
    const running = this.#running;
    this.#running = undefined;
    this.#broker.serve(new Set());
    this.#worker.stop();
    const runner = await running;
    await this.connection.disconnect();
    return runner;
  }
}

type ActorMockOrFn = ((args: never, context: ActorContext) => unknown) | undefined;

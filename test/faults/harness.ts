/**
 * In-process workers and producers for the fault-injection suite, on a throwaway Redis. Every run
 * of an actor is recorded (job number -> how many times it started / finished), so that each
 * scenario can count jobs, runs, lost jobs and duplicates.
 */
import { randomUUID } from "node:crypto";
import type { OutgoingMessage } from "../../src/brokers/broker.js";
import {
  RedisMessageBroker,
  type RedisBrokerOptions,
} from "../../src/brokers/redis/redis-broker.js";
import { Connection } from "../../src/connection/connection.js";
import type { Logger } from "../../src/core/logger.js";
import { silentLogger } from "../../src/core/logger.js";
import { Worker, type WorkerRunner } from "../../src/worker/worker.js";

/** Starts and finishes per job number. */
export class Runs {
  readonly started = new Map<number, number>();
  readonly finished = new Map<number, number>();

  start(n: number): void {
    this.started.set(n, (this.started.get(n) ?? 0) + 1);
  }

  finish(n: number): void {
    this.finished.set(n, (this.finished.get(n) ?? 0) + 1);
  }

  /** jobs, runs, lost (never finished), duplicates (started more than once) of jobs 0..n-1. */
  figures(n: number): { jobs: number; runs: number; lost: number; duplicates: number } {
    let runs = 0;
    let lost = 0;
    let duplicates = 0;
    for (let i = 0; i < n; i++) {
      const s = this.started.get(i) ?? 0;
      runs += s;
      if (!this.finished.has(i)) lost++;
      if (s > 1) duplicates++;
    }
    return { jobs: n, runs, lost, duplicates };
  }
}

/** `n` messages for the actor `topic` on `queue`, numbered from `from`. */
export function jobs(queue: string, topic: string, n: number, from = 0): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${queue}-${from + i}`,
    queue,
    topic,
    payload: String(from + i),
    priority: 1,
    retries: 3,
    timeoutMs: 60_000,
  }));
}

export interface StartedWorker {
  readonly worker: Worker;
  readonly connection: Connection;
  readonly broker: RedisMessageBroker;
  /** Resolves with the worker's figures when `run()` ends. */
  readonly done: Promise<WorkerRunner>;
  /** Stops the worker (graceful) and disconnects. */
  stop(): Promise<WorkerRunner>;
}

/**
 * A worker on `queues`, whose actor `record_<queue>` records its run and takes `jobMs` (or the
 * time `gate` takes to resolve).
 */
export function startWorker(
  url: string,
  prefix: string,
  runs: Runs,
  options: {
    readonly queues?: readonly string[];
    readonly concurrency?: number;
    readonly leaseTime?: number;
    readonly jobMs?: number;
    readonly logger?: Logger;
    readonly broker?: RedisBrokerOptions;
  } = {},
): StartedWorker {
  const logger = options.logger ?? silentLogger;
  const broker = new RedisMessageBroker(url, { prefix, logger, ...options.broker });
  const connection = new Connection(broker);
  const worker = new Worker({
    connection,
    concurrency: options.concurrency ?? 10,
    handleSignals: [],
    logger,
    gracefulShutdownTime: 5000,
    ...(options.leaseTime !== undefined ? { leaseTime: options.leaseTime } : {}),
  });
  for (const queue of options.queues ?? ["default"]) {
    worker.actor({ name: `record_${queue}`, queue }, async (n: number) => {
      runs.start(n);
      if (options.jobMs) await new Promise((r) => setTimeout(r, options.jobMs));
      runs.finish(n);
    });
  }
  const done = worker.run();
  return {
    worker,
    connection,
    broker,
    done,
    async stop() {
      worker.stop();
      const figures = await done;
      await connection.disconnect();
      return figures;
    },
  };
}

/** A producer broker (connected) under `prefix`. */
export async function producer(
  url: string,
  prefix: string,
  options: RedisBrokerOptions = {},
): Promise<RedisMessageBroker> {
  const broker = new RedisMessageBroker(url, { prefix, ...options });
  await broker.connect();
  return broker;
}

export function newPrefix(): string {
  return `fault-${randomUUID().slice(0, 8)}`;
}

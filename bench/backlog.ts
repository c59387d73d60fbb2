/** Runs the deep-backlog scenario (bench/backlog-child.ts) for one system in a process of its own. */
import { fork } from "node:child_process";
import type { SystemName } from "./systems.js";

export interface BacklogFigures {
  /** Jobs/s of windows of bulk enqueues, then of processing, at the shallow depth (3 rounds). */
  readonly atShallow: { enqueue: number[]; process: number[] };
  /** The same at the full depth. */
  readonly atDepth: { enqueue: number[]; process: number[] };
  /** Jobs/s of the bulk fill up to the depth. */
  readonly fill: number;
  /** Jobs/s processing the whole backlog (when it was drained). */
  readonly drain?: number;
  /** Redis used_memory growth per waiting job at the full depth. */
  readonly bytesPerJob: number;
  readonly samples: {
    phase: "fill" | "drain";
    waiting: number;
    rssMiB: number;
    redisMiB: number;
  }[];
}

export interface BacklogOptions {
  readonly depth: number;
  readonly shallow: number;
  readonly window: number;
  readonly concurrency: number;
  readonly drain: boolean;
}

export function backlog(
  system: SystemName,
  url: string,
  queue: string,
  o: BacklogOptions,
): Promise<BacklogFigures> {
  const args = [o.depth, o.shallow, o.window, o.concurrency, o.drain ? 1 : 0].map(String);
  const child = fork(
    new URL("./backlog-child.ts", import.meta.url).pathname,
    [system, url, queue, ...args],
    { execArgv: ["--import", "tsx"] },
  );
  return new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m as BacklogFigures));
    child.once("exit", (code) => reject(new Error(`backlog child for ${system} exited (${code})`)));
  });
}

/**
 * The sync-actors scenario's actors, at the top level of their own module (repid's executor
 * threads import this module and find the sync one by name). Their queue comes from the
 * environment, so every run has its own.
 */
import { Router } from "repid";
import { work } from "./cpu-work.mjs";

export const CPU_QUEUE = `${process.env.BENCH_PREFIX ?? "bench"}-cpu`;
export const cpuRouter = new Router();

/** Not `async`: runs in the worker's thread pool. */
cpuRouter.actor({ queue: CPU_QUEUE }, function workInThread(args: { rounds: number }) {
  return work(args.rounds);
});

/** The same work on the event loop. */
cpuRouter.actor({ queue: CPU_QUEUE }, async function workInline(args: { rounds: number }) {
  return work(args.rounds);
});

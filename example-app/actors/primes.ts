import { threadId } from "node:worker_threads";
import { router } from "./router.js";

/**
 * Sync CPU-bound actor: counts primes below `below` with a sieve. It is not `async`, so the
 * worker runs it in a worker thread; it is registered at the top level of its own module so the
 * thread can import this module and find it.
 */
export function countPrimes(args: { below: number }): {
  below: number;
  count: number;
  threadId: number;
} {
  const sieve = new Uint8Array(args.below);
  let count = 0;
  for (let i = 2; i < args.below; i++) {
    if (sieve[i]) continue;
    count++;
    for (let j = i * i; j < args.below; j += i) sieve[j] = 1;
  }
  return { below: args.below, count, threadId };
}

router.actor({ name: "count_primes", queue: "cpu", storeResult: true }, countPrimes);

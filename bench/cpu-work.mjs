// The CPU-bound work of the sync-actors scenario, in plain JavaScript: a BullMQ sandbox thread
// loads this file as it is (no TypeScript loader there), and repid's actors call the same code.

/** `rounds` rounds of FNV-1a over the loop counter; returns the hash. */
export function work(rounds) {
  let h = 2166136261;
  for (let i = 0; i < rounds; i++) {
    h ^= i & 0xff;
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** BullMQ's sandboxed processor. */
export default function processor(job) {
  return work(job.data.rounds);
}

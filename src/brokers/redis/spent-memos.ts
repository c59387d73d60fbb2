/** Spent memo keys kept per queue, at most; beyond, the oldest are left to expire. */
const KEPT = 64;
/** Spent memo keys one call deletes, at most. */
const PER_CALL = 16;

/**
 * Memo keys of receive and settle calls whose replies came back. A memo (see MEMO_MS in
 * scripts/common.lua) lets a call sent again after a lost reply answer as it did the first time;
 * once the reply has arrived, nothing sends that call again, so the next call on the same queue
 * deletes it. Without this, every call's memo lived its full minute: under a sustained 60,000
 * jobs/s that is tens of thousands of keys and about 150 MB of Redis memory. Keys of one queue
 * share its hash tag, so the deletion stays within the call's slot on a cluster.
 */
export class SpentMemos {
  readonly #byQueue = new Map<string, string[]>();

  /** The call that wrote memo `key` on `queue` was answered. */
  add(queue: string, key: string): void {
    let keys = this.#byQueue.get(queue);
    if (!keys) this.#byQueue.set(queue, (keys = []));
    keys.push(key);
    if (keys.length > KEPT) keys.splice(0, keys.length - KEPT);
  }

  /** Spent memos of `queue` for the next call on it to delete (handed out once). */
  take(queue: string): string[] {
    const keys = this.#byQueue.get(queue);
    if (!keys || keys.length === 0) return [];
    if (keys.length <= PER_CALL) {
      this.#byQueue.delete(queue);
      return keys;
    }
    return keys.splice(0, PER_CALL);
  }
}

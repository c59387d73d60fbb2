import { setLongTimeout } from "../../core/timers.js";
import type { StoredResult } from "../broker.js";

interface Entry {
  readonly result: StoredResult;
  readonly expiresAt: number;
}

type Listener = (result: StoredResult | undefined) => void;

/** Results with a time to live, and waiters woken the moment a result is stored. */
export class ResultStore {
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Map<string, Set<Listener>>();
  #sweeps = 0;

  store(id: string, result: StoredResult, ttlMs: number): void {
    const now = Date.now();
    this.#entries.set(id, { result, expiresAt: now + ttlMs });
    if (++this.#sweeps % 1024 === 0) this.#sweep(now);
    const listeners = this.#listeners.get(id);
    if (!listeners) return;
    this.#listeners.delete(id);
    for (const listener of listeners) listener(result);
  }

  read(id: string): StoredResult | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.result;
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  wait(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    const stored = this.read(id);
    if (stored || options.signal?.aborted) return Promise.resolve(stored);
    return new Promise((resolve) => {
      let listeners = this.#listeners.get(id);
      if (!listeners) this.#listeners.set(id, (listeners = new Set()));
      const done = (result: StoredResult | undefined): void => {
        timer.clear();
        options.signal?.removeEventListener("abort", onAbort);
        listeners.delete(done);
        if (listeners.size === 0 && this.#listeners.get(id) === listeners)
          this.#listeners.delete(id);
        resolve(result);
      };
      const onAbort = (): void => done(undefined);
      const timer = setLongTimeout(() => done(undefined), options.timeoutMs);
      listeners.add(done);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  close(): void {
    for (const [, listeners] of this.#listeners) for (const l of [...listeners]) l(undefined);
    this.#listeners.clear();
  }

  #sweep(now: number): void {
    for (const [id, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(id);
  }
}

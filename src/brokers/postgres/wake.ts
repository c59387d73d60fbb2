/**
 * A one-shot wake-up: a waiter registers it before it looks (so a notification that arrives
 * while it looks is not missed), then sleeps on it until it fires, a timeout passes or a signal
 * aborts.
 */
export class Wake {
  #fired = false;
  #resolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #deadline = 0;

  get fired(): boolean {
    return this.#fired;
  }

  fire(): void {
    this.#fired = true;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.();
  }

  /** Resolves when fired (at once if it already was), after `ms`, or when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#fired || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        signal?.removeEventListener("abort", done);
        this.#resolve = undefined;
        resolve();
      };
      this.#deadline = Date.now() + Math.max(0, ms);
      this.#timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
      this.#resolve = done;
    });
  }

  /** A sleep in progress ends within `ms` (sooner if it was to end sooner already). */
  shorten(ms: number): void {
    const done = this.#resolve;
    if (!done || this.#timer === undefined) return;
    const at = Date.now() + Math.max(0, ms);
    if (at >= this.#deadline) return;
    clearTimeout(this.#timer);
    this.#deadline = at;
    this.#timer = setTimeout(done, Math.max(0, ms));
  }
}

/** Wakes registered per key (a queue, a job id). */
export class WakeSets {
  readonly #byKey = new Map<string, Set<Wake>>();

  /** A wake fired by `fire` of any of `keys`; call the returned function when done with it. */
  add(keys: readonly string[], wake: Wake): () => void {
    for (const key of keys) {
      let set = this.#byKey.get(key);
      if (!set) this.#byKey.set(key, (set = new Set()));
      set.add(wake);
    }
    return () => {
      for (const key of keys) {
        const set = this.#byKey.get(key);
        if (!set) continue;
        set.delete(wake);
        if (set.size === 0) this.#byKey.delete(key);
      }
    };
  }

  fire(key: string): void {
    const set = this.#byKey.get(key);
    if (set) for (const wake of set) wake.fire();
  }

  fireAll(): void {
    for (const set of this.#byKey.values()) for (const wake of set) wake.fire();
  }
}

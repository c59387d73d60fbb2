import type { JobUpdate } from "../broker.js";

type Listener = (update: JobUpdate) => void;

/**
 * The in-memory broker's job updates: the last update of each job (until its time to live
 * passes) and the listeners watching it. Methods are bound, for the broker to hand out as its own.
 */
export class UpdateStore {
  readonly #last = new Map<string, { update: JobUpdate; until: number }>();
  readonly #listeners = new Map<string, Set<Listener>>();

  readonly publish = async (
    queue: string,
    id: string,
    update: JobUpdate,
    ttlMs: number,
  ): Promise<void> => {
    const key = keyOf(queue, id);
    this.#last.set(key, { update, until: Date.now() + ttlMs });
    for (const listener of [...(this.#listeners.get(key) ?? [])]) listener(update);
  };

  readonly read = async (queue: string, id: string): Promise<JobUpdate | undefined> => {
    const key = keyOf(queue, id);
    const kept = this.#last.get(key);
    if (kept && kept.until <= Date.now()) this.#last.delete(key);
    return kept && kept.until > Date.now() ? kept.update : undefined;
  };

  readonly watch = async (
    queue: string,
    id: string,
    listener: Listener,
    signal: AbortSignal,
  ): Promise<void> => {
    if (signal.aborted) return;
    const key = keyOf(queue, id);
    let set = this.#listeners.get(key);
    if (!set) this.#listeners.set(key, (set = new Set()));
    const mine = set;
    // Each watch is its own entry, even when one listener function is passed twice.
    const entry: Listener = (update) => listener(update);
    mine.add(entry);
    signal.addEventListener(
      "abort",
      () => {
        mine.delete(entry);
        if (mine.size === 0 && this.#listeners.get(key) === mine) this.#listeners.delete(key);
      },
      { once: true },
    );
  };

  /** Drops every listener (the kept updates stay, as results do). */
  close(): void {
    this.#listeners.clear();
  }
}

function keyOf(queue: string, id: string): string {
  return `${queue}\u0000${id}`;
}

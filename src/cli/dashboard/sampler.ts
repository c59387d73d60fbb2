import type { QueueCounts } from "../../brokers/broker.js";
import type { Admin } from "../../ops/admin.js";

/** Counts of one queue at one instant. */
export interface Sample {
  /** Epoch ms. */
  readonly at: number;
  readonly counts: QueueCounts;
}

/**
 * Samples every queue's counts on a timer and keeps the last `keep` samples per queue, for the
 * dashboard's charts. Its timer never keeps the process alive.
 */
export class CountSampler {
  readonly #admin: Admin;
  readonly #keep: number;
  readonly #samples = new Map<string, Sample[]>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(admin: Admin, everyMs: number, keep: number) {
    this.#admin = admin;
    this.#keep = keep;
    this.#timer = setInterval(() => void this.sample(), everyMs).unref();
  }

  /** Takes one sample now (concurrent calls share it); failures leave a gap. */
  sample(): Promise<void> {
    this.#running ??= this.#take().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** The kept samples of `queue`, oldest first. */
  history(queue: string): readonly Sample[] {
    return this.#samples.get(queue) ?? [];
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #take(): Promise<void> {
    const at = Date.now();
    const queues = await this.#admin.queues().catch(() => []);
    for (const q of queues) {
      const kept = this.#samples.get(q.name) ?? [];
      kept.push({ at, counts: q.counts });
      if (kept.length > this.#keep) kept.splice(0, kept.length - this.#keep);
      this.#samples.set(q.name, kept);
    }
  }
}

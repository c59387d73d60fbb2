/**
 * The rules of one `Worker.run()`, as states and transitions. Each concern keeps them in its own
 * file: receiving (`receive-loop.ts`), executing (`execute.ts`, `../pool/`), renewing
 * (`lease-keeper.ts`), settling (`settler.ts`, reported by `run-report.ts`); `worker-run.ts`
 * joins them.
 *
 * States:
 * - `receiving`: receives while slots and prefetch are free, runs what it received.
 * - `draining`: `messagesLimit` was reached; takes no more, and everything received runs to
 *   completion (no clock).
 * - `stopping`: `stop()` or a signal, from either state: unstarted deliveries are given back at
 *   once, running ones get the grace period, counted from the stop.
 * - `forced`: the grace period ended or a second signal came: running attempts are aborted and
 *   given back (an async body that ignores its signal is let go of), and pending settlements get
 *   a last moment.
 * The run ends, from any state, when nothing is held and no settlement is in flight.
 *
 * Rules every state keeps:
 * - Slots: at most `concurrency` attempts run at once. A slot is freed the moment an attempt's
 *   outcome is known, so the next receive can travel with that settlement. An async actor
 *   aborted (timed out, cancelled) while its body still runs cannot be stopped from outside: its
 *   attempt ends when the body does (warned about after 10 s), keeping its slot, lease and
 *   settlement until then, unless a forced stop lets go of it.
 * - Prefetch: at most `prefetch` more deliveries wait, leased, in delivery order (with `"auto"`,
 *   about 5 ms of the slots' work by the jobs' recent durations, 10 to 16 × concurrency). A
 *   receive goes out only when a quarter of slots + prefetch is free (one round trip fetches
 *   many), and only while `receiving`.
 * - Holding: every received delivery is held by the lease keeper from its receipt until its
 *   settlement is applied (or refused), or its lease is known lost. Held leases are renewed every
 *   lease/3, one renewal in flight at a time; a lease that is lost aborts its attempt (or drops it
 *   unstarted) and is logged once.
 * - Liveness: before its first receive the run starts a heartbeat under its own consumer id and
 *   names itself on every receive, so a crashed worker's leases end with its heartbeat.
 * - Settlement: every attempt ends with exactly one settlement, also when deciding it throws. A
 *   settlement the broker failed to take is retried while its lease is kept; pending settlements
 *   are sent before each receive.
 * - Waiting never races a long-lived promise: every wait is a fresh promise resolved by the next
 *   change (a slot freed, a settlement done, a state change), so nothing accumulates per job.
 */

export type RunPhase = "receiving" | "draining" | "stopping" | "forced";

/** The only moves between phases. */
const TRANSITIONS: Readonly<Record<RunPhase, readonly RunPhase[]>> = {
  receiving: ["draining", "stopping"],
  draining: ["stopping"],
  stopping: ["forced"],
  forced: [],
};

/** The phase of a run, and the waits on its changes. */
export class RunState {
  #phase: RunPhase = "receiving";
  readonly #listeners: (() => void)[] = [];

  get phase(): RunPhase {
    return this.#phase;
  }

  /** `stopping` or `forced`. */
  get stopping(): boolean {
    return this.#phase === "stopping" || this.#phase === "forced";
  }

  /** Moves to `next` when the transition exists; false (and no change) otherwise. */
  to(next: RunPhase): boolean {
    if (!TRANSITIONS[this.#phase].includes(next)) return false;
    this.#phase = next;
    this.changed();
    return true;
  }

  /** Resolves at the next change: a slot freed, a settlement done, a phase change. */
  nextChange(): Promise<void> {
    return new Promise((resolve) => this.#listeners.push(resolve));
  }

  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await this.nextChange();
  }

  /** Something changed: wakes every wait. */
  changed(): void {
    if (this.#listeners.length === 0) return;
    for (const listener of this.#listeners.splice(0)) listener();
  }
}

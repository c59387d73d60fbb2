/**
 * The in-memory broker's one timer for rate windows: each blocked limit group asks for a call at
 * the time its oldest start leaves the window (or, idle, its newest: then it is dropped). One
 * heap of due times across every group, one timer for the earliest (no polling per key).
 */
import { Heap } from "../../core/heap.js";
import { DelayTimer } from "./delay-timer.js";
import { tickGroup } from "./limit-groups.js";
import type { LimitGroup } from "./records.js";

interface Entry {
  readonly group: LimitGroup;
  readonly at: number;
}

export class LimitClock {
  readonly #due = new Heap<Entry>((a, b) => a.at < b.at);
  readonly #timer = new DelayTimer(() => this.#fire());

  /** Calls the group's `tickGroup` at `at` (the group keeps the time of the entry in force). */
  arm(group: LimitGroup, at: number): void {
    this.#due.push({ group, at });
    this.#timer.arm(at);
  }

  /** Drops every entry (the broker disconnects); their groups may be armed again. */
  clear(): void {
    this.#due.remove((entry) => {
      entry.group.armedAt = Infinity;
      return true;
    });
    this.#timer.clear();
  }

  #fire(): void {
    const now = Date.now();
    for (let top = this.#due.peek(); top && top.at <= now; top = this.#due.peek()) {
      this.#due.pop();
      tickGroup(top.group, top.at, now);
    }
    const next = this.#due.peek();
    if (next) this.#timer.arm(next.at);
  }
}

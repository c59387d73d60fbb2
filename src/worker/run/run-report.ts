import type { Message, Settlement } from "../../brokers/broker.js";
import type { LifecycleEvent } from "../../core/hooks.js";
import type { Logger } from "../../core/logger.js";
import type { HookSet } from "../../connection/hook-set.js";
import type { Outcome } from "./execute.js";
import { FailureLog } from "./failure-log.js";
import { jobInfo } from "./schema-versions.js";

/** What `run()` returns: counts of what this worker did. */
export interface WorkerRunner {
  /** Messages settled by this worker (succeeded, retried, dead-lettered or rescheduled). */
  readonly processed: number;
  readonly succeeded: number;
  /** Attempts that threw or timed out (retried + dead-lettered after a run). */
  readonly failed: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Periodic jobs put back for their next run. */
  readonly rescheduled: number;
  /** Messages given back unfinished at shutdown (attempt counter unchanged). */
  readonly rejected: number;
}

type Counts = { -readonly [K in keyof WorkerRunner]: number };

/**
 * What a run tells: its counts, the lifecycle events for hooks (only when some are registered),
 * and the failure lines of the log (always).
 */
export class RunReport {
  readonly #hooks: HookSet;
  readonly #failures: FailureLog;
  readonly #counts: Counts = {
    processed: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    rescheduled: 0,
    rejected: 0,
  };

  constructor(hooks: HookSet, logger: Logger) {
    this.#hooks = hooks;
    this.#failures = new FailureLog(logger);
  }

  get counts(): WorkerRunner {
    return { ...this.#counts };
  }

  emit(event: LifecycleEvent): void {
    if (this.#hooks.hasEvents) this.#hooks.emit(event);
  }

  /** A run starts. */
  started(message: Message, now: number): void {
    if (!this.#hooks.hasEvents) return;
    const job = jobInfo(message);
    const due = Math.max(message.enqueuedAt, message.executeAt ?? 0);
    this.#hooks.emit({ type: "started", job, waitMs: Math.max(0, now - due) });
    if (message.stalls > 0) this.#hooks.emit({ type: "recovered", job, stalls: message.stalls });
    if (message.schedule) this.#hooks.emit({ type: "schedule-fired", job });
  }

  /** A settlement was applied: counted, logged when it failed, told to hooks. */
  settled(
    message: Message,
    settlement: Settlement,
    outcome: Outcome,
    failed: boolean,
    startedAt: number,
  ): void {
    if (outcome !== "lost") {
      this.#counts[outcome]++;
      if (outcome !== "rejected") this.#counts.processed++;
    }
    if (failed) this.#counts.failed++;
    this.#logFailure(message, settlement, outcome);
    if (!this.#hooks.hasEvents) return;
    const durationMs = startedAt ? Date.now() - startedAt : 0;
    const job = jobInfo(message);
    switch (settlement.kind) {
      case "ack":
        return this.#hooks.emit({ type: "succeeded", job, durationMs });
      case "dead":
        return this.#hooks.emit({
          type: "dead-lettered",
          job,
          durationMs,
          error: settlement.error,
        });
      case "requeue":
        if (outcome === "rejected") return this.#hooks.emit({ type: "rejected", job });
        if (outcome === "retried")
          return this.#hooks.emit({
            type: "retried",
            job,
            durationMs,
            error: settlement.lastError ?? { name: "Error", message: "unknown" },
            nextAttemptAt: settlement.executeAt ?? Date.now(),
          });
        return this.#hooks.emit({
          type: "rescheduled",
          job,
          durationMs,
          ...(settlement.lastError ? { error: settlement.lastError } : {}),
        });
    }
  }

  /** Logs what is still summarised (repeats of one failure). */
  flush(): void {
    this.#failures.flush();
  }

  #logFailure(message: Message, settlement: Settlement, outcome: Outcome): void {
    if (settlement.kind === "dead") {
      this.#failures.failed("dead-lettered", jobRef(message), settlement.error);
    } else if (outcome === "retried" && settlement.kind === "requeue" && settlement.lastError) {
      const at = settlement.executeAt ?? Date.now();
      this.#failures.failed(
        "retried",
        jobRef(message),
        settlement.lastError,
        ` (next attempt in ${Math.max(0, at - Date.now())} ms)`,
      );
    } else if (outcome === "rescheduled" && settlement.kind === "requeue" && settlement.lastError) {
      this.#failures.failed(
        "failed",
        jobRef(message),
        settlement.lastError,
        " (a periodic run; its next run is scheduled)",
      );
    }
  }
}

function jobRef(message: Message): { id: string; actor: string; queue: string; attempt: number } {
  return { id: message.id, actor: message.topic, queue: message.queue, attempt: message.attempt };
}

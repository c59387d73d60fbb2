/**
 * Lifecycle hooks: one typed mechanism for logging, metrics, tracing and policies, registered on a
 * `Connection` (every producer and worker using it) or on a `Worker` (that worker only).
 *
 * - `onEnqueue` runs before a message is sent: it can add headers, or refuse the message.
 * - `aroundRun` wraps an actor's run (middleware): time it, wrap it in a span, read headers.
 * - `onEvent` is told what happened: started, succeeded, retried, dead-lettered, recovered
 *   after a stall, lease lost, schedule fired, worker started or stopping.
 *
 * A hook that throws is logged and skipped: it never loses, duplicates or changes a message
 * (only `onEnqueue` returning `false` refuses one, on purpose). With no hook registered, none of
 * this costs anything on the hot path.
 */
import type { FailureInfo } from "./errors.js";

/** Headers travel with a message on every broker; their JSON may take at most this many bytes. */
export const MAX_HEADERS_BYTES = 8 * 1024;

/** What identifies a job in every hook. */
export interface JobInfo {
  readonly id: string;
  readonly actor: string;
  readonly queue: string;
  /** 1 on the first run, 2 on the first retry, ... */
  readonly attempt: number;
  /** Per-message metadata, set by the producer's `onEnqueue` hooks (e.g. trace context). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Given to `onEnqueue`: the message about to be sent, with headers a hook may add to. */
export interface EnqueueEvent {
  readonly id: string;
  readonly actor: string;
  readonly queue: string;
  /** Epoch ms before which it will not run, if deferred. */
  readonly executeAt: number | undefined;
  /** Add or change entries here; they are sent with the message. */
  readonly headers: Record<string, string>;
}

/** Given to `aroundRun`. */
export interface RunEvent extends JobInfo {
  /** Epoch ms the message was first enqueued. */
  readonly enqueuedAt: number;
  /** Epoch ms the run starts. */
  readonly startedAt: number;
}

/** How a run ended, as `aroundRun` sees it. */
export type RunOutcome =
  { readonly ok: true } | { readonly ok: false; readonly error: FailureInfo };

/** What `onEvent` is told. */
export type LifecycleEvent =
  | {
      readonly type: "worker-started";
      readonly queues: readonly string[];
      readonly consumer: string;
      /** The names of the actors this worker runs; a message for any other is dead-lettered. */
      readonly actors: readonly string[];
    }
  | { readonly type: "worker-stopping"; readonly reason: "stop" | "limit" }
  /** A run starts; `waitMs` is the time from enqueue (or due time) to start. */
  | { readonly type: "started"; readonly job: JobInfo; readonly waitMs: number }
  /** A run starts for a message whose previous lease ended unsettled (a crashed or hung worker). */
  | { readonly type: "recovered"; readonly job: JobInfo; readonly stalls: number }
  /** A periodic job's run starts. */
  | { readonly type: "schedule-fired"; readonly job: JobInfo }
  | { readonly type: "succeeded"; readonly job: JobInfo; readonly durationMs: number }
  | {
      readonly type: "retried";
      readonly job: JobInfo;
      readonly durationMs: number;
      readonly error: FailureInfo;
      /** Epoch ms of the next attempt. */
      readonly nextAttemptAt: number;
    }
  | {
      readonly type: "dead-lettered";
      readonly job: JobInfo;
      readonly durationMs: number;
      readonly error: FailureInfo;
    }
  /** A periodic job's run ended and its next run is scheduled (`error` when this one failed). */
  | {
      readonly type: "rescheduled";
      readonly job: JobInfo;
      readonly durationMs: number;
      readonly error?: FailureInfo;
    }
  /** Given back unfinished (a stop), attempt unchanged. */
  | { readonly type: "rejected"; readonly job: JobInfo }
  /**
   * A message written with another schema than this worker's registry (its `repid-schema` header
   * names another fingerprint: an older producer, or a newer one during a rollout). `handling`:
   * it passed the current schema and runs as is (`validated`), an upcaster turned it into the
   * current arguments (`upcast`), or it was dead-lettered with `SCHEMA_MISMATCH`. `seen` counts
   * this actor's messages of `fingerprint` since the worker started, this one included.
   */
  | {
      readonly type: "old-schema";
      readonly job: JobInfo;
      readonly fingerprint: string;
      readonly current: string;
      readonly handling: "validated" | "upcast" | "dead-lettered";
      readonly seen: number;
    }
  | { readonly type: "lease-lost"; readonly job: JobInfo };

export interface Hooks {
  /** Before a message is sent. Return `false` to refuse it (`enqueue()` then throws). */
  onEnqueue?(event: EnqueueEvent): void | boolean | Promise<void | boolean>;
  /** Around an actor's run: call `next()` once and return what it returns. */
  aroundRun?(event: RunEvent, next: () => Promise<RunOutcome>): Promise<RunOutcome>;
  /** Notifications; called synchronously, must not block. */
  onEvent?(event: LifecycleEvent): void;
}

/**
 * The broker's admin operations: what operators need to see and steer queues. A broker that
 * supports them exposes an object implementing `BrokerAdmin` as `broker.admin`; the contract
 * suite runs the admin tests on every broker that has one. The `Admin` class, the `repid` CLI and
 * the dashboard are three faces of these same operations, named alike.
 */
import type { FailureInfo, HeldBy, Message, QueueCounts } from "./records.js";

/** Where a message is. */
export type MessageState = "ready" | "delayed" | "running" | "dead";

export const MESSAGE_STATES: readonly MessageState[] = ["ready", "delayed", "running", "dead"];

export interface QueueInfo {
  readonly name: string;
  /** Workers take nothing from a paused queue; running jobs finish. */
  readonly paused: boolean;
  /** All zero when `problem` is set. */
  readonly counts: QueueCounts;
  /**
   * Set when the queue's data could not be read (a key of the wrong type, data another program
   * wrote): the queue is listed with this reason instead of failing the listing of every queue.
   */
  readonly problem?: string;
}

/** One message as an operator sees it. */
export interface JobView {
  readonly message: Message;
  readonly state: MessageState;
  /** Dead: why. Waiting after a failed attempt: the last attempt's error, when the broker kept it. */
  readonly error?: FailureInfo;
  /** Dead: epoch ms it was dead-lettered. */
  readonly failedAt?: number;
  /** Running: epoch ms its lease ends unless renewed. */
  readonly leaseUntil?: number;
  /** Running: a cancellation was asked for and its worker has not ended it yet. */
  readonly cancelling?: boolean;
  /** Ready but waiting for a limit of its actor (see `TopicLimits`): which one. */
  readonly heldBy?: HeldBy;
  /**
   * The last progress the job reported (`ctx.progress`), decoded from JSON, on a broker that keeps
   * job updates. Filled in by `Admin.job` (brokers leave it out).
   */
  readonly progress?: unknown;
  /** A step of a flow: where it stands in it. Filled in by `Admin.job` (brokers leave it out). */
  readonly flow?: FlowPlace;
}

/** Where a step stands in its flow: its job id is `<id>~<stage>` or `<id>~<stage>.<branch>`. */
export interface FlowPlace {
  /** The flow's id. */
  readonly id: string;
  /** Its stage, 0 first. */
  readonly stage: number;
  /** Its branch of an `all` stage, 0 first. */
  readonly branch?: number;
  /**
   * The steps this step knows of, in order: the branches of its own stage (or itself) and every
   * stage after it, each with where it stands.
   */
  readonly steps?: readonly FlowStepView[];
}

/** One step of a flow as an operator sees it. */
export interface FlowStepView {
  readonly stage: number;
  readonly branch?: number;
  readonly actor: string;
  readonly queue: string;
  /** The step's job id. */
  readonly id: string;
  /**
   * `pending`: not enqueued yet; `ready`, `delayed`, `running`, `dead` as a job; `succeeded`: it
   * ended well (its result kept, or a later step exists); `failed`: the flow failed there.
   */
  readonly state: "pending" | MessageState | "succeeded" | "failed";
}

/** One page of a listing; pass `next` back as `cursor` for the following page. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Absent on the last page. */
  readonly next?: string;
}

export interface PageOptions {
  /** @defaultValue 50 */
  readonly limit?: number;
  readonly cursor?: string;
}

/** How a cancelled running job ends. */
export type CancelMode = "dead" | "ack";

/**
 * What `cancel` did: `removed` (it was waiting or delayed), `cancelling` (it runs; its worker
 * aborts `ctx.signal` at its next lease renewal and ends it as `mode` says), or `not-found`.
 */
export type CancelOutcome = "removed" | "cancelling" | "not-found";

/** A lease renewal's answer when the message was cancelled meanwhile (see `BrokerAdmin.cancel`). */
export interface Cancelled {
  readonly cancelled: CancelMode;
}

export interface BrokerAdmin {
  /** Declared queues, by name, with their pause flag and counts. */
  queues(): Promise<QueueInfo[]>;
  /**
   * Messages of a queue in one state, a page at a time without loading the whole queue: ready in
   * delivery order, delayed by due time, running by lease end, dead oldest first.
   */
  jobs(queue: string, state: MessageState, options?: PageOptions): Promise<Page<JobView>>;
  /** One message by id, in whatever state (dead letters included), or `undefined`. */
  job(queue: string, id: string): Promise<JobView | undefined>;
  /**
   * Cancels a job: a waiting or delayed one is removed at once (never runs); a running one is
   * marked, and the next `renew` of its lease answers `{ cancelled: mode }` so its worker aborts
   * it and settles it as dead-lettered (`CANCELLED`) or acked; it is never retried.
   */
  cancel(queue: string, id: string, mode?: CancelMode): Promise<CancelOutcome>;
  /**
   * Dead letters back to ready (attempt 1, stalls 0, behind the ready messages of their
   * priority); `ids` absent means all of the queue's. Returns how many moved. A dead letter whose
   * id is taken by a live message stays dead.
   */
  replay(queue: string, ids?: readonly string[]): Promise<number>;
  /** Deletes dead letters (`ids` absent: all of the queue's). Returns how many. */
  deleteDead(queue: string, ids?: readonly string[]): Promise<number>;
  /** Workers take nothing from the queue until `resume`; producers still enqueue. */
  pause(queue: string): Promise<void>;
  resume(queue: string): Promise<void>;
}

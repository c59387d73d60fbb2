/** Details of a failure, stored with dead letters and failed results. */
export interface FailureInfo {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** A `RepidError` code or the reason the broker refused the message. */
  readonly code?: string;
}

/** Every code a `RepidError` can carry. */
export type RepidErrorCode =
  | "NO_CONNECTION"
  | "QUEUE_NOT_DECLARED"
  | "INVALID_OPTION"
  | "INVALID_DURATION"
  | "VALIDATION"
  | "SCHEMA_MISMATCH"
  | "JOB_TIMEOUT"
  | "EXPIRED"
  | "JOB_FAILED"
  | "NO_RETRY"
  | "UNKNOWN_ACTOR"
  | "INVALID_PAYLOAD"
  | "ACTOR_NOT_FOUND"
  | "ACTOR_ABORTED"
  | "BROKER"
  | "RESULT_TIMEOUT"
  | "RESULT_NOT_STORED"
  | "PEER_DEPENDENCY"
  | "ENQUEUE_REFUSED"
  | "CANCELLED"
  | "NOT_SUPPORTED"
  | "NO_RESULT_STORE"
  | "FLOW_FAILED"
  | "CODEGEN";

/** Base of every error repid throws; `code` tells them apart without `instanceof`. */
export class RepidError extends Error {
  readonly code: RepidErrorCode;

  constructor(code: RepidErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Thrown when something needs a connection outside `magic()` and none was passed. */
export class NoConnectionError extends RepidError {
  constructor() {
    super(
      "NO_CONNECTION",
      "No connection: call this inside `app.magic(async () => ...)` or pass `{ connection }` explicitly.",
    );
  }
}

/** An operator cancelled the job while it ran (`Admin.cancel`): it is not retried. */
export class JobCancelledError extends RepidError {
  readonly mode: "dead" | "ack";

  constructor(mode: "dead" | "ack" = "dead") {
    super("CANCELLED", "The job was cancelled by an operator while it ran");
    this.mode = mode;
  }
}

/** An `onEnqueue` hook refused the message (returned `false`); nothing was sent. */
export class EnqueueRefusedError extends RepidError {
  readonly actor: string;
  readonly jobId: string;

  constructor(actor: string, jobId: string) {
    super(
      "ENQUEUE_REFUSED",
      `An onEnqueue hook refused job "${jobId}" of actor "${actor}"; nothing was sent`,
    );
    this.actor = actor;
    this.jobId = jobId;
  }
}

/** Thrown when enqueueing to a queue that was never declared (repid's `KeyError: 'default'`). */
export class QueueNotDeclaredError extends RepidError {
  readonly queue: string;

  constructor(queue: string) {
    super(
      "QUEUE_NOT_DECLARED",
      `Queue "${queue}" is not declared: call \`await new Queue(${JSON.stringify(queue)}).declare()\` (or \`job.queue.declare()\`) first.`,
    );
    this.queue = queue;
  }
}

/** Thrown for an option of the wrong type or out of range (negative retries, empty name...). */
export class InvalidOptionError extends RepidError {
  readonly option: string;

  constructor(option: string, message: string) {
    super("INVALID_OPTION", `Invalid option "${option}": ${message}`);
    this.option = option;
  }
}

/** Thrown for a duration that is neither a non-negative number of ms nor a string like "5s". */
export class InvalidDurationError extends RepidError {
  readonly input: unknown;

  constructor(input: unknown, option?: string) {
    super(
      "INVALID_DURATION",
      `Invalid duration${option ? ` for "${option}"` : ""}: ${JSON.stringify(input) ?? String(input)} (use milliseconds or a string like "500ms", "5s", "2m", "2h", "1d")`,
    );
    this.input = input;
  }
}

/** One problem found while validating a payload against its schema. */
export interface ValidationIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly code?: string;
}

/** Thrown (or dead-lettered) when args do not match the actor's schema. */
export class ValidationError extends RepidError {
  readonly actor: string;
  readonly issues: readonly ValidationIssue[];

  constructor(actor: string, issues: readonly ValidationIssue[], what = "arguments") {
    const list = issues
      .map((i) => `  - ${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
      .join("\n");
    super("VALIDATION", `Invalid ${what} for actor "${actor}":\n${list}`);
    this.actor = actor;
    this.issues = issues;
  }
}

/**
 * Dead-letter reason of a message written with a schema this worker does not know (its
 * `repid-schema` header names another fingerprint than the worker's registry) that could not be
 * run: its arguments fail the current schema and the actor has no upcaster for that fingerprint,
 * or its upcaster failed. Names both fingerprints and how many messages of the message's one
 * this worker has seen.
 */
export class SchemaMismatchError extends RepidError {
  readonly actor: string;
  /** The fingerprint the message was written with. */
  readonly fingerprint: string;
  /** This worker's fingerprint for the actor. */
  readonly expected: string;
  readonly issues: readonly ValidationIssue[];
  /** Messages of `fingerprint` this worker has seen, this one included. */
  readonly seen: number;

  constructor(
    details: {
      readonly actor: string;
      readonly fingerprint: string;
      readonly expected: string;
      readonly issues: readonly ValidationIssue[];
      readonly seen: number;
      /** Why, when an upcaster was tried. */
      readonly reason?: string;
    },
    options?: { cause?: unknown },
  ) {
    const list = details.issues
      .map((i) => `  - ${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
      .join("\n");
    const why =
      details.reason ??
      `its arguments fail this worker's schema and the actor declares no upcaster for ${details.fingerprint}`;
    super(
      "SCHEMA_MISMATCH",
      `Message of actor "${details.actor}" has schema ${details.fingerprint}, this worker's is ${details.expected}: ${why} (message ${details.seen} of schema ${details.fingerprint} seen by this worker)${list ? `:\n${list}` : ""}`,
      options,
    );
    this.actor = details.actor;
    this.fingerprint = details.fingerprint;
    this.expected = details.expected;
    this.issues = details.issues;
    this.seen = details.seen;
  }
}

/** Why a job was dead-lettered unrun: its first attempt had not started before its `ttl` ran out. */
export class JobExpiredError extends RepidError {
  readonly expiresAt: number;

  constructor(expiresAt: number, now: number) {
    super(
      "EXPIRED",
      `Job expired: not started before ${new Date(expiresAt).toISOString()} (its ttl), ${now - expiresAt} ms late; it was not run`,
    );
    this.expiresAt = expiresAt;
  }
}

/** The reason an attempt failed when it ran past its timeout. */
export class JobTimeoutError extends RepidError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super("JOB_TIMEOUT", `Job timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** Throw from an actor to dead-letter its message at once, whatever retries are left. */
export class NoRetryError extends RepidError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NO_RETRY", message, options);
  }
}

/** The message names an actor this worker does not know. */
export class UnknownActorError extends RepidError {
  readonly actor: string;

  constructor(actor: string) {
    super("UNKNOWN_ACTOR", `No actor named "${actor}" is registered on this worker`);
    this.actor = actor;
  }
}

/** The message's payload is not valid JSON. */
export class InvalidPayloadError extends RepidError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_PAYLOAD", message, options);
  }
}

/** A sync actor could not be found in its module from inside a thread or child process. */
export class ActorNotFoundError extends RepidError {
  constructor(message: string) {
    super("ACTOR_NOT_FOUND", message);
  }
}

/** An attempt was stopped by a forced shutdown (its message is rejected, not retried). */
export class ActorAbortedError extends RepidError {
  constructor(message = "Actor aborted by worker shutdown") {
    super("ACTOR_ABORTED", message);
  }
}

/** A broker failed or refused an operation (connection lost, engine error). */
export class BrokerError extends RepidError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("BROKER", message, options);
  }
}

/**
 * The broker cannot do what was asked (see `BrokerCapabilities`), for example periodic messages
 * or stored results on RabbitMQ. Names the broker and the operation.
 */
export class NotSupportedError extends RepidError {
  readonly broker: string;
  readonly operation: string;

  constructor(broker: string, operation: string, hint: string) {
    super("NOT_SUPPORTED", `${broker} does not support ${operation}: ${hint}`);
    this.broker = broker;
    this.operation = operation;
  }
}

/**
 * A job asked for its result to be stored, but the connection's broker keeps no results and the
 * connection was given no result store. Thrown at enqueue, before anything is sent.
 */
export class NoResultStoreError extends RepidError {
  readonly jobId: string;

  constructor(jobId: string, actor: string) {
    super(
      "NO_RESULT_STORE",
      `Job "${jobId}" of actor "${actor}" asks for its result to be stored, but the broker keeps no results: pass a result store, e.g. \`new Connection(broker, { results: new RedisResultStore(url) })\`, or enqueue it without \`storeResult\`.`,
    );
    this.jobId = jobId;
  }
}

/** Waiting for a result took longer than the given timeout. */
export class ResultTimeoutError extends RepidError {
  readonly jobId: string;

  /** @param hint what may explain the wait, appended to the message. */
  constructor(jobId: string, timeoutMs: number, hint?: string) {
    super(
      "RESULT_TIMEOUT",
      `No result for job "${jobId}" within ${timeoutMs} ms${hint ? ` (${hint})` : ""}`,
    );
    this.jobId = jobId;
  }
}

/**
 * `result()` was called on a job known to store no result: neither the job (`storeResult`) nor
 * its actor, as the generated registry describes it, keeps one. Thrown at once, not after a wait.
 */
export class ResultNotStoredError extends RepidError {
  readonly jobId: string;
  readonly actor: string | undefined;

  constructor(jobId: string, actor?: string) {
    super(
      "RESULT_NOT_STORED",
      `Job "${jobId}"${actor ? ` of actor "${actor}"` : ""} stores no result, so there is none to await: enqueue it with \`storeResult: true\` (or a time to live such as \`storeResult: "1h"\`), or give its actor the \`storeResult\` option and regenerate the registry.`,
    );
    this.jobId = jobId;
    this.actor = actor;
  }
}

/** An installed package repid depends on has a version repid does not support. */
export class PeerDependencyError extends RepidError {
  readonly dependency: string;

  constructor(dependency: string, message: string) {
    super("PEER_DEPENDENCY", message);
    this.dependency = dependency;
  }
}

/** The job whose result was awaited failed for good; carries the remote error. */
export class JobFailedError extends RepidError {
  readonly jobId: string;
  readonly remote: FailureInfo;
  readonly attempts: number;

  constructor(jobId: string, remote: FailureInfo, attempts: number) {
    super(
      "JOB_FAILED",
      `Job "${jobId}" failed after ${attempts} attempt(s): ${remote.name}: ${remote.message}`,
    );
    this.jobId = jobId;
    this.remote = remote;
    this.attempts = attempts;
  }
}

/** A problem in actor sources found by `repid-gen`, located at file:line:col. */
export class CodegenError extends RepidError {
  readonly file: string;
  readonly line: number;
  readonly column: number;

  constructor(file: string, line: number, column: number, message: string) {
    super("CODEGEN", `${file}:${line}:${column}: ${message}`);
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

/** Turns anything thrown into the plain failure record stored with dead letters and results. */
export function toFailureInfo(error: unknown): FailureInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(error.stack !== undefined ? { stack: error.stack } : {}),
      ...(typeof code === "string" ? { code } : {}),
    };
  }
  return { name: "NonError", message: safeString(error) };
}

function safeString(value: unknown): string {
  try {
    return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

import type { Message } from "../../brokers/broker.js";
import type { JobInfo } from "../../core/hooks.js";
import type { Logger } from "../../core/logger.js";
import type { HookSet } from "../../connection/hook-set.js";

export type OldSchemaHandling = "validated" | "upcast" | "dead-lettered";

/**
 * Counts, per actor and fingerprint, the messages a worker received that were written with
 * another schema than its registry's, so an operator can tell when an old schema is gone. Each
 * is told to `onEvent` hooks (the `repid_jobs_old_schema_total` metric); the log gets a warning
 * on the 1st, 10th, 100th, ... message of a fingerprint, and a summary when the run ends.
 */
export class SchemaVersions {
  readonly #logger: Logger;
  readonly #hooks: HookSet;
  readonly #counts = new Map<
    string,
    { actor: string; fingerprint: string; current: string; seen: number }
  >();

  constructor(logger: Logger, hooks: HookSet) {
    this.#logger = logger;
    this.#hooks = hooks;
  }

  /** Counts one message of `fingerprint`; returns how many of them this worker has seen. */
  seen(message: Message, fingerprint: string, current: string): number {
    const key = `${message.topic}\u0000${fingerprint}`;
    let entry = this.#counts.get(key);
    if (!entry) {
      entry = { actor: message.topic, fingerprint, current, seen: 0 };
      this.#counts.set(key, entry);
    }
    return ++entry.seen;
  }

  /** Reports one counted message, once its handling is known. */
  report(
    message: Message,
    fingerprint: string,
    current: string,
    handling: OldSchemaHandling,
    seen: number,
  ): void {
    // A dead letter has its own line (with the count), from the worker's failure log.
    if (handling !== "dead-lettered" && isPowerOfTen(seen)) {
      const what =
        handling === "validated"
          ? "it passed the current schema and ran as is"
          : "its upcaster turned it into the current arguments";
      this.#logger.warn(
        `repid: actor "${message.topic}" received a message of schema ${fingerprint} (this worker's is ${current}): ${what}; ${seen} message(s) of schema ${fingerprint} seen by this worker`,
        {
          id: message.id,
          actor: message.topic,
          queue: message.queue,
          fingerprint,
          current,
          handling,
          seen,
        },
      );
    }
    if (this.#hooks.hasEvents) {
      this.#hooks.emit({
        type: "old-schema",
        job: jobInfo(message),
        fingerprint,
        current,
        handling,
        seen,
      });
    }
  }

  /** One line per actor and fingerprint seen, for the end of a run. */
  summarize(): void {
    for (const e of [...this.#counts.values()].sort((a, b) =>
      (a.actor + a.fingerprint).localeCompare(b.actor + b.fingerprint),
    )) {
      this.#logger.warn(
        `repid: this worker received ${e.seen} message(s) of actor "${e.actor}" with schema ${e.fingerprint} (its own is ${e.current})`,
        { actor: e.actor, fingerprint: e.fingerprint, current: e.current, seen: e.seen },
      );
    }
  }
}

function isPowerOfTen(n: number): boolean {
  let x = n;
  while (x >= 10 && x % 10 === 0) x /= 10;
  return x === 1;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** What hooks and events are told of a message. */
export function jobInfo(message: Message): JobInfo {
  return {
    id: message.id,
    actor: message.topic,
    queue: message.queue,
    attempt: message.attempt,
    headers: message.headers ?? NO_HEADERS,
  };
}

import type { OutgoingMessage } from "../brokers/broker.js";
import { EnqueueRefusedError, InvalidOptionError } from "../core/errors.js";
import {
  MAX_HEADERS_BYTES,
  type EnqueueEvent,
  type Hooks,
  type LifecycleEvent,
  type RunEvent,
  type RunOutcome,
} from "../core/hooks.js";
import type { Logger } from "../core/logger.js";

/**
 * Runs registered hooks in order, isolating each: a hook that throws is logged (once per hook
 * and kind, then summarised by count) and skipped, never changing what happens to a message.
 */
export class HookSet {
  readonly #hooks: readonly Hooks[];
  readonly #enqueue: Hooks[];
  readonly #around: Hooks[];
  readonly #events: Hooks[];
  readonly #logger: Logger;
  readonly #failures = new Map<string, number>();

  constructor(hooks: readonly Hooks[], logger: Logger) {
    this.#hooks = hooks;
    this.#enqueue = hooks.filter((h) => h.onEnqueue);
    this.#around = hooks.filter((h) => h.aroundRun);
    this.#events = hooks.filter((h) => h.onEvent);
    this.#logger = logger;
  }

  get all(): readonly Hooks[] {
    return this.#hooks;
  }

  get hasEnqueue(): boolean {
    return this.#enqueue.length > 0;
  }

  get hasAround(): boolean {
    return this.#around.length > 0;
  }

  get hasEvents(): boolean {
    return this.#events.length > 0;
  }

  /** A set with these hooks first, then `more`. */
  with(more: readonly Hooks[], logger = this.#logger): HookSet {
    return more.length === 0 && logger === this.#logger
      ? this
      : new HookSet([...this.#hooks, ...more], logger);
  }

  /** Runs `onEnqueue` hooks; returns the messages with their headers (or throws if refused). */
  async enqueue(messages: readonly OutgoingMessage[]): Promise<OutgoingMessage[]> {
    const out: OutgoingMessage[] = [];
    for (const message of messages) {
      const headers: Record<string, string> = { ...message.headers };
      const event: EnqueueEvent = {
        id: message.id,
        actor: message.topic,
        queue: message.queue,
        executeAt: message.executeAt,
        headers,
      };
      for (const hook of this.#enqueue) {
        let verdict: void | boolean;
        try {
          verdict = await hook.onEnqueue!(event);
        } catch (error) {
          this.#failed("onEnqueue", error);
          continue;
        }
        if (verdict === false) throw new EnqueueRefusedError(message.topic, message.id);
      }
      out.push(withHeaders(message, headers));
    }
    return out;
  }

  /**
   * Runs the actor (`run`, which never rejects) inside every `aroundRun` hook, outermost first.
   * The run happens exactly once and its own outcome is returned, whatever the hooks do.
   */
  run<T extends RunOutcome>(event: RunEvent, run: () => Promise<T>): Promise<T> {
    const inner = once(run);
    const chain = this.#around.reduceRight<() => Promise<RunOutcome>>((next, hook) => {
      const nextOnce = once(next);
      return async () => {
        try {
          return await hook.aroundRun!(event, nextOnce);
        } catch (error) {
          this.#failed("aroundRun", error);
          return nextOnce();
        }
      };
    }, inner);
    return chain().then(inner, inner);
  }

  /** Tells every `onEvent` hook. */
  emit(event: LifecycleEvent): void {
    for (const hook of this.#events) {
      try {
        hook.onEvent!(event);
      } catch (error) {
        this.#failed("onEvent", error);
      }
    }
  }

  #failed(kind: string, error: unknown): void {
    const seen = (this.#failures.get(kind) ?? 0) + 1;
    this.#failures.set(kind, seen);
    // The first failure of each kind in full, then every 100th as a count.
    if (seen === 1 || seen % 100 === 0) {
      this.#logger.error(
        `repid: an ${kind} hook threw (${seen} time${seen === 1 ? "" : "s"} so far); it was skipped and the message is unaffected`,
        { error },
      );
    }
  }
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= fn());
}

export function withHeaders(
  message: OutgoingMessage,
  headers: Readonly<Record<string, string>>,
): OutgoingMessage {
  const size = Buffer.byteLength(JSON.stringify(headers));
  if (size > MAX_HEADERS_BYTES) {
    throw new InvalidOptionError(
      "headers",
      `take ${size} bytes as JSON; at most ${MAX_HEADERS_BYTES} are allowed per message`,
    );
  }
  return Object.keys(headers).length === 0 ? message : { ...message, headers };
}

/** No hooks: the hot path checks `hasX` flags and skips everything. */
export const NO_HOOKS = new HookSet([], {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
});

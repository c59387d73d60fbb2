/**
 * Enqueue calls to one queue made in the same event-loop turn, outside any caller's transaction,
 * go to Postgres as one statement: one round trip and one commit for many concurrent producers
 * instead of one each. Calls to different queues never share a statement, so an undeclared queue
 * fails only its own callers; each call gets exactly its own flags.
 */
import type { OutgoingMessage } from "../broker.js";

interface Waiting {
  readonly messages: readonly OutgoingMessage[];
  readonly resolve: (created: boolean[]) => void;
  readonly reject: (error: unknown) => void;
}

export class EnqueueBatches {
  readonly #run: (messages: readonly OutgoingMessage[]) => Promise<boolean[]>;
  readonly #pending = new Map<string, Waiting[]>();

  /** `run` stores messages of one queue in one statement and answers a flag per message. */
  constructor(run: (messages: readonly OutgoingMessage[]) => Promise<boolean[]>) {
    this.#run = run;
  }

  /** Whether `messages` may join a batch: one queue, no caller's transaction. */
  static fits(messages: readonly OutgoingMessage[]): boolean {
    const queue = messages[0]?.queue;
    return messages.every((m) => m.queue === queue && m.transaction === undefined);
  }

  /** Created flags of `messages` (one queue, see `fits`), stored with the turn's other calls. */
  enqueue(messages: readonly OutgoingMessage[]): Promise<boolean[]> {
    const queue = messages[0]!.queue;
    return new Promise((resolve, reject) => {
      const waiting = this.#pending.get(queue);
      if (waiting) {
        waiting.push({ messages, resolve, reject });
        return;
      }
      this.#pending.set(queue, [{ messages, resolve, reject }]);
      queueMicrotask(() => void this.#flush(queue));
    });
  }

  async #flush(queue: string): Promise<void> {
    const calls = this.#pending.get(queue)!;
    this.#pending.delete(queue);
    const all = calls.length === 1 ? calls[0]!.messages : calls.flatMap((c) => c.messages);
    let flags: boolean[];
    try {
      flags = await this.#run(all);
    } catch (error) {
      for (const c of calls) c.reject(error);
      return;
    }
    let at = 0;
    for (const c of calls) {
      c.resolve(flags.slice(at, at + c.messages.length));
      at += c.messages.length;
    }
  }
}

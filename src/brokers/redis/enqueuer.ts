import { randomBytes } from "node:crypto";
import { QueueNotDeclaredError } from "../../core/errors.js";
import type { EnqueueOutcome, OutgoingMessage } from "../broker.js";
import type { RedisClient } from "./cluster.js";
import type { KeySpace } from "./connection.js";
import { encodeNew } from "./codec.js";
import { buildEnqueueCalls } from "./operations.js";
import { brokerError } from "./redis-errors.js";
import { waitForReplicas, type ReplicaAcks } from "./replicas.js";
import { runResending } from "./resend.js";
import { scriptCall, type ScriptRunner } from "./scripts.js";

interface Waiting {
  readonly messages: readonly OutgoingMessage[];
  readonly resolve: (outcomes: EnqueueOutcome[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The enqueue side of the Redis broker. Single-queue calls made in the same event-loop turn to
 * the same queue travel together as one script call (one round trip for many concurrent
 * producers); calls to different queues never share a batch, so an undeclared queue fails only
 * its own callers. Each call gets exactly its own outcomes. With `replicas`, each call then waits
 * until that many replicas of every master written to have its messages (see replicas.ts).
 */
export class Enqueuer {
  readonly #client: RedisClient;
  readonly #keys: KeySpace;
  readonly #scripts: ScriptRunner;
  readonly #replicas: ReplicaAcks | undefined;
  readonly #coalesced = new Map<string, Waiting[]>();
  readonly #nonce = randomBytes(6).toString("base64url");
  #calls = 0;

  constructor(
    client: RedisClient,
    keys: KeySpace,
    scripts: ScriptRunner,
    replicas: ReplicaAcks | undefined,
  ) {
    this.#client = client;
    this.#keys = keys;
    this.#scripts = scripts;
    this.#replicas = replicas;
  }

  enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    if (!this.#replicas) return this.#enqueue(messages);
    return this.#enqueueReplicated(messages, this.#replicas);
  }

  async #enqueueReplicated(
    messages: readonly OutgoingMessage[],
    acks: ReplicaAcks,
  ): Promise<EnqueueOutcome[]> {
    const outcomes = await this.#enqueue(messages);
    const queues = [...new Set(messages.map((m) => m.queue))];
    await waitForReplicas(
      this.#client,
      queues.map((q) => this.#keys.queue(q).declared),
      acks,
    );
    return outcomes;
  }

  #enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    if (messages.length === 0) return Promise.resolve([]);
    const queue = messages[0]!.queue;
    for (const m of messages) if (m.queue !== queue) return this.#enqueueNow(messages);
    this.#keys.queue(queue); // validates the name now, in the caller's stack
    return new Promise((resolve, reject) => {
      const batch = this.#coalesced.get(queue);
      if (batch) {
        batch.push({ messages, resolve, reject });
        return;
      }
      this.#coalesced.set(queue, [{ messages, resolve, reject }]);
      queueMicrotask(() => void this.#flush(queue));
    });
  }

  async #flush(queue: string): Promise<void> {
    const batch = this.#coalesced.get(queue)!;
    this.#coalesced.delete(queue);
    const all = batch.length === 1 ? batch[0]!.messages : batch.flatMap((c) => c.messages);
    let outcomes: EnqueueOutcome[];
    try {
      outcomes = await this.#enqueueNow(all);
    } catch (error) {
      for (const c of batch) c.reject(error);
      return;
    }
    let at = 0;
    for (const c of batch) {
      c.resolve(batch.length === 1 ? outcomes : outcomes.slice(at, at + c.messages.length));
      at += c.messages.length;
    }
  }

  async #enqueueNow(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    const now = Date.now();
    const lone = messages.length === 1 && isPlain(messages[0]!) ? messages[0]! : undefined;
    // A lone message that enqueue-one.lua did not store goes to enqueue.lua under the same origin.
    let origin = lone ? this.#origin() : undefined;
    if (lone && (await this.#enqueueOne(lone, now, origin!)))
      return [{ id: lone.id, created: true }];
    const { calls, slices, queues } = buildEnqueueCalls(this.#keys, messages, now, () => {
      const id = origin ?? this.#origin();
      origin = undefined;
      return id;
    });
    try {
      if (queues.length > 1) {
        // Several queues: every one must be declared before any script stores anything.
        // All sent at once: a cluster refuses one pipeline across slots.
        const replies = await Promise.all(
          queues.map((q) => this.#client.exists(this.#keys.queue(q).declared)),
        );
        queues.forEach((q, i) => {
          if (replies[i] !== 1) throw new QueueNotDeclaredError(q);
        });
      }
      const outcomes = await runResending(this.#scripts, this.#client, calls);
      const result = new Array<EnqueueOutcome>(messages.length);
      outcomes.forEach((outcome, c) => {
        const slice = slices[c]!;
        if (!outcome.ok) throw refusal(slice.queue, outcome.error);
        const flags = outcome.value as number[];
        slice.indices.forEach((index, k) => {
          result[index] = { id: messages[index]!.id, created: flags[k] === 1 };
        });
      });
      return result;
    } catch (error) {
      throw brokerError("enqueue", error);
    }
  }

  /**
   * One plain message through enqueue-one.lua: true when it stored it; false when it stored
   * nothing (the queue has limits, or the id exists) and enqueue.lua must decide.
   */
  async #enqueueOne(m: OutgoingMessage, now: number, origin: string): Promise<boolean> {
    const keys = this.#keys.queue(m.queue).enqueueOne[m.priority]!;
    const call = scriptCall("enqueue-one", keys, [m.id, encodeNew(m, now, origin)]);
    const [outcome] = await runResending(this.#scripts, this.#client, [call]);
    if (outcome!.ok) return outcome!.value === 1;
    throw brokerError("enqueue", refusal(m.queue, outcome!.error));
  }

  /** A new enqueue call's id (its messages' `origin`). */
  #origin(): string {
    return `${this.#nonce}.${(this.#calls++).toString(36)}`;
  }
}

/** What a failed enqueue script call means: the queue not declared, or the error itself. */
function refusal(queue: string, error: Error): Error {
  return error.message.includes("REPID_NOT_DECLARED") ? new QueueNotDeclaredError(queue) : error;
}

/** Due now, not periodic, no dedupe window, no debounce: what enqueue-one.lua takes. */
function isPlain(m: OutgoingMessage): boolean {
  return (
    m.executeAt === undefined &&
    m.schedule === undefined &&
    m.dedupeMs === undefined &&
    m.debounceMs === undefined
  );
}

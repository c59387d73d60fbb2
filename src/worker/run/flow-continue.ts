/**
 * What a worker does when a step of a flow ends (see core/flow-plan.ts), before it settles the
 * step: the next step is enqueued first, under its fixed id and a dedupe window as long as the
 * flow is kept. A worker killed between the two leaves the step unsettled: it runs again, and its
 * second completion finds the next step's id taken, so nothing is lost and nothing runs twice for
 * one completion. A branch of an `all` keeps its result first, then looks at its siblings': the
 * last to find them all enqueues the join (two at once both enqueue it: one is created).
 *
 * Intermediate results go once handed over: a step with a next one settles without its result
 * (the next step holds it as arguments), and whoever enqueued a join marks the stage handed over
 * (a kept result under the stage's own id, `<flow>~<stage>`) and then removes the branches'
 * results. A branch that runs again later (its worker died before settling) finds a sibling's
 * result gone; only when the mark says the join was enqueued does it remove its own result too.
 * Removal follows the enqueue, so no join misses a branch, and the next step's id stays taken
 * for the dedupe window whatever is removed, so nothing is enqueued twice.
 */
import type {
  Delivery,
  MessageBroker,
  OutgoingMessage,
  StoredResult,
} from "../../brokers/broker.js";
import {
  FLOW_HEADER,
  flowFailure,
  readFlowHeader,
  stepId,
  type FlowHeader,
} from "../../core/flow-plan.js";
import type { FailureInfo } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { SCHEMA_HEADER } from "../../core/registry.js";
import { WATCH_HEADER } from "../../core/watch.js";
import type { Executed } from "./execute.js";

/** Runs the flow's next move for an ended step; `executed` unchanged, or without a settlement
 * (the step is then left to run again) when the move failed. */
export async function continueFlow(
  broker: MessageBroker,
  delivery: Delivery,
  executed: Executed,
  logger: Logger,
): Promise<Executed> {
  const settlement = executed.settlement;
  const h = readFlowHeader(delivery.message.headers);
  if (!h || !settlement || settlement.kind === "requeue") return executed;
  try {
    if (settlement.kind !== "ack") {
      await failed(broker, delivery, h, settlement.error);
      return executed;
    }
    await succeeded(broker, delivery, h, executed.value);
    if (h.next.length === 0 || settlement.result === undefined) return executed;
    const { result: _handedOver, ...rest } = settlement;
    return { ...executed, settlement: rest };
  } catch (error) {
    logger.error(
      `repid: flow "${h.f}": the step after job "${delivery.message.id}" could not be enqueued; the step runs again when its lease ends`,
      { error, id: delivery.message.id, flow: h.f },
    );
    return { settlement: undefined, outcome: "lost", failed: executed.failed };
  }
}

async function succeeded(
  broker: MessageBroker,
  delivery: Delivery,
  h: FlowHeader,
  value: string | undefined,
): Promise<void> {
  const { id, queue } = delivery.message;
  if (h.b === undefined) {
    if (h.next.length > 0) await enqueueNext(broker, h, value);
    return;
  }
  const kept: StoredResult = { ok: true, value, finishedAt: Date.now() };
  await broker.storeResult!(id, { stored: kept, ttlMs: h.k }, { queue });
  if (h.next.length === 0) return;
  const values: string[] = [];
  for (let b = 0; b < (h.n ?? 0); b++) {
    const sibling =
      b === h.b ? kept : await broker.readResult(stepId(h.f, h.i, b), { queue: h.bq![b]! });
    if (!sibling?.ok) {
      // Not all done yet (or one failed: the flow has failed), or handed over already.
      if (await handedOver(broker, h)) await removeBranches(broker, h);
      return;
    }
    values.push(sibling.value ?? "null");
  }
  await enqueueNext(broker, h, `[${values.join(",")}]`);
  if (!broker.deleteResult) return;
  const mark: StoredResult = { ok: true, value: undefined, finishedAt: Date.now() };
  await broker.storeResult!(
    stepId(h.f, h.i),
    { stored: mark, ttlMs: h.k },
    { queue: h.next[0]!.q },
  );
  await removeBranches(broker, h);
}

/** Whether the join after this branch's stage was enqueued (the stage is marked handed over). */
async function handedOver(broker: MessageBroker, h: FlowHeader): Promise<boolean> {
  if (!broker.deleteResult) return false;
  return (await broker.readResult(stepId(h.f, h.i), { queue: h.next[0]!.q })) !== undefined;
}

/** Removes the results of every branch of this stage (the join holds them now). */
async function removeBranches(broker: MessageBroker, h: FlowHeader): Promise<void> {
  const ids = Array.from({ length: h.n ?? 0 }, (_, b) => b);
  await Promise.all(
    ids.map((b) => broker.deleteResult!(stepId(h.f, h.i, b), { queue: h.bq![b]! })),
  );
}

/** A step dead-lettered: the flow's result becomes a FLOW_FAILED failure naming it. */
async function failed(
  broker: MessageBroker,
  delivery: Delivery,
  h: FlowHeader,
  error: FailureInfo,
): Promise<void> {
  // The last step's own failure is the flow's result already (it keeps its result).
  if (h.next.length === 0) return;
  const last = h.next[h.next.length - 1]!;
  const step = {
    stage: h.i,
    ...(h.b === undefined ? {} : { branch: h.b }),
    actor: delivery.message.topic,
    jobId: delivery.message.id,
  };
  const stored: StoredResult = {
    ok: false,
    error: flowFailure(h.f, step, error),
    attempts: delivery.message.attempt,
    finishedAt: Date.now(),
  };
  await broker.storeResult!(
    stepId(h.f, h.i + h.next.length),
    { stored, ttlMs: h.k },
    { queue: last.q },
  );
}

async function enqueueNext(
  broker: MessageBroker,
  h: FlowHeader,
  payload: string | undefined,
): Promise<void> {
  const [n, ...rest] = h.next;
  const header: FlowHeader = { f: h.f, i: h.i + 1, k: h.k, next: rest, ...(h.w ? { w: 1 } : {}) };
  const message: OutgoingMessage = {
    id: stepId(h.f, h.i + 1),
    queue: n!.q,
    topic: n!.a,
    payload,
    priority: (n!.p ?? 1) as 0 | 1 | 2,
    retries: n!.r ?? 0,
    timeoutMs: n!.t ?? 600_000,
    headers: {
      [FLOW_HEADER]: JSON.stringify(header),
      ...(n!.h === undefined ? {} : { [SCHEMA_HEADER]: n!.h }),
      ...(h.w ? { [WATCH_HEADER]: "1" } : {}),
    },
    dedupeMs: h.k,
    ...(rest.length === 0 ? { resultTtlMs: h.k } : {}),
  };
  await broker.enqueue([message]);
}

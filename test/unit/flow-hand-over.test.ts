/**
 * A fan-in's hand-over, step by step on the in-memory broker, with the branches' completions
 * called in a chosen order and again (a worker that died before settling runs its step again):
 * the join is enqueued once, with every branch's result; the branches' results are removed once
 * it is, also a result a late re-run stores again; the settlement of a handed-over step carries
 * no result.
 */
import { expect, it } from "vitest";
import type { Delivery } from "../../src/brokers/broker.js";
import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { FLOW_HEADER, type FlowHeader } from "../../src/core/flow-plan.js";
import { silentLogger } from "../../src/core/logger.js";
import type { Executed } from "../../src/worker/run/execute.js";
import { continueFlow } from "../../src/worker/run/flow-continue.js";

const K = 60_000;

function header(b: number): FlowHeader {
  return {
    f: "f1",
    i: 0,
    b,
    n: 2,
    bq: ["default", "default"],
    ba: ["resize", "resize"],
    k: K,
    next: [{ a: "zip_files", q: "other" }],
  };
}

/** A branch's successful run, as execute() reports it (its result asked to be kept). */
function succeeded(delivery: Delivery, value: string): Executed {
  const stored = { ok: true as const, value, finishedAt: 1 };
  return {
    settlement: { kind: "ack", delivery, result: { stored, ttlMs: K } },
    outcome: "succeeded",
    failed: false,
    value,
  };
}

it("enqueues the join once with both results, then removes them, also after re-runs", async () => {
  const broker = new InMemoryMessageBroker();
  await broker.connect();
  await broker.declareQueue("default");
  await broker.declareQueue("other");
  await broker.enqueue(
    [0, 1].map((b) => ({
      id: `f1~0.${b}`,
      queue: "default",
      topic: "resize",
      payload: "{}",
      priority: 1 as const,
      retries: 0,
      timeoutMs: 60_000,
      headers: { [FLOW_HEADER]: JSON.stringify(header(b)) },
      dedupeMs: K,
    })),
  );
  const [d0, d1] = await broker.receive(["default"], { max: 2, leaseMs: 60_000 });
  const results = async (): Promise<(string | undefined)[]> =>
    Promise.all(
      ["f1~0.0", "f1~0.1"].map(async (id) => {
        const r = await broker.readResult(id);
        return r?.ok ? r.value : undefined;
      }),
    );
  const joins = async (): Promise<number> => (await broker.counts("other")).ready;

  // Branch 0 ends first: it keeps its result, its sibling has none yet, nothing is enqueued.
  const first = await continueFlow(broker, d0!, succeeded(d0!, "10"), silentLogger);
  expect(await results()).toEqual(["10", undefined]);
  expect(await joins()).toBe(0);
  expect(first.settlement).toEqual({ kind: "ack", delivery: d0 });

  // Branch 1 ends: the join is enqueued with both results, and the results are removed.
  const last = await continueFlow(broker, d1!, succeeded(d1!, "20"), silentLogger);
  expect(last.settlement).toEqual({ kind: "ack", delivery: d1 });
  expect(await joins()).toBe(1);
  const [join] = await broker.receive(["other"], { max: 1, leaseMs: 60_000 });
  expect(join!.message).toMatchObject({ id: "f1~1", topic: "zip_files", payload: "[10,20]" });
  expect(await results()).toEqual([undefined, undefined]);

  // Both run again (their workers died before settling): no second join, no result left over.
  await continueFlow(broker, d0!, succeeded(d0!, "10"), silentLogger);
  expect(await results()).toEqual([undefined, undefined]);
  await continueFlow(broker, d1!, succeeded(d1!, "20"), silentLogger);
  expect(await results()).toEqual([undefined, undefined]);
  expect(await joins()).toBe(0);
  expect((await broker.counts("other")).running).toBe(1);
  await broker.disconnect();
});

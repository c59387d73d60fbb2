/**
 * Compile-time tests of typed flows (issue 27): chains and fan-in whose steps fit, and the
 * types of their results. Type-checked, never run; the calls that must not compile are in
 * fixtures/flow-misuse.ts.
 */
import { flow, type FlowHandle } from "repid";
import { expectTypeOf } from "vitest";
import { jobs } from "./flow-registry.js";

export async function rightFlows(url: string): Promise<void> {
  const page = await flow(jobs.fetchPage.with({ url }))
    .then(jobs.parsePage)
    .then(jobs.storeRows)
    .enqueue();
  expectTypeOf(page).toEqualTypeOf<FlowHandle<number>>();
  expectTypeOf(await page.result()).toEqualTypeOf<number>();

  const zip = await flow
    .all([jobs.resize.with({ width: 100 }), jobs.resize.with({ width: 800 })])
    .then(jobs.zipPair)
    .enqueue();
  expectTypeOf(await zip.result()).toEqualTypeOf<string>();

  // A join that takes any number of them takes the tuple too.
  await flow
    .all([
      jobs.resize.with({ width: 1 }),
      jobs.resize.with({ width: 2 }),
      jobs.resize.with({ width: 3 }),
    ])
    .then(jobs.zipFiles)
    .enqueue();

  // Without a join, the flow's result is the tuple of the branches' results, in order.
  const both = await flow
    .all([jobs.resize.with({ width: 1 }), jobs.fetchPage.with({ url })])
    .enqueue();
  expectTypeOf(await both.result()).toEqualTypeOf<
    [{ width: number; bytes: number }, { html: string }]
  >();

  // Options per step.
  await flow(jobs.fetchPage.with({ url }, { priority: "high", retries: 3, timeout: "30s" }))
    .then(jobs.parsePage, { retries: 1 })
    .enqueue({ keep: "2h" });
}

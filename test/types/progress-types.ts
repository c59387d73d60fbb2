/**
 * Compile-time tests of job progress: `ctx.progress` takes the type its `JobContext` names, and
 * the generated client passes `watch` on. Type-checked, never run: each `@ts-expect-error` must
 * meet an error, or tsc fails (TS2578).
 */
import {
  Worker,
  type FlowHandle,
  type FlowProgressUpdate,
  type FlowStepRef,
  type JobContext,
  type JobHandle,
  type JobProgressUpdate,
} from "repid";
import { expectTypeOf } from "vitest";
import {
  jobs,
  type ImportProgress,
  type ImportRowsResult,
  type ResizeProgress,
} from "../codegen/expected/basic.js";

export async function progressOfTheContextsType(ctx: JobContext<{ done: number }>): Promise<void> {
  await ctx.progress({ done: 1 });
  // @ts-expect-error a string is not a { done: number }
  await ctx.progress("half way");
  // @ts-expect-error a field is missing
  await ctx.progress({});
  expectTypeOf(ctx.progress).returns.toEqualTypeOf<Promise<void>>();
}

export function actorsTakeATypedContext(worker: Worker): void {
  worker.actor(async function counted(_: unknown, ctx: JobContext<{ done: number }>) {
    await ctx.progress({ done: 1 });
  });
}

export async function watchingAHandle(handle: JobHandle): Promise<void> {
  expectTypeOf(await handle.progress<{ done: number }>()).toEqualTypeOf<
    { done: number } | undefined
  >();
  for await (const update of handle.watch<{ done: number }>({ signal: AbortSignal.timeout(1) })) {
    expectTypeOf(update).toEqualTypeOf<JobProgressUpdate<{ done: number }>>();
    expectTypeOf(update.state).toEqualTypeOf<
      "waiting" | "running" | "succeeded" | "failed" | "dead"
    >();
  }
  await jobs.sendEmail.enqueue({ to: "a@b.c", subject: "Hi", cc: [] }, { watch: true });
}

export async function typedByTheRegistry(): Promise<void> {
  const rows = await jobs.importRows.enqueue({ rows: 3 });
  expectTypeOf(rows).toEqualTypeOf<JobHandle<ImportRowsResult, ImportProgress>>();
  expectTypeOf(await rows.progress()).toEqualTypeOf<ImportProgress | undefined>();
  // A Date in the actor's type reads back as a Date (the client decodes with the schema).
  expectTypeOf((await rows.progress())?.at).toEqualTypeOf<Date | undefined>();
  const resized = await jobs.resize.enqueue({ width: 100 });
  for await (const update of resized.watch({ signal: AbortSignal.timeout(1) })) {
    expectTypeOf(update).toEqualTypeOf<JobProgressUpdate<ResizeProgress>>();
    expectTypeOf(update.progress).toEqualTypeOf<ResizeProgress | undefined>();
  }
  // An actor whose context names no progress type: `unknown`, or the type the caller names.
  const mail = await jobs.sendEmail.enqueue({ to: "a@b.c", subject: "Hi", cc: [] });
  expectTypeOf(await mail.progress()).toEqualTypeOf<unknown>();
  expectTypeOf(await mail.progress<{ done: number }>()).toEqualTypeOf<
    { done: number } | undefined
  >();
}

export function typedHandlesFitUntypedOnes(
  handle: JobHandle<ImportRowsResult, ImportProgress>,
): JobHandle<unknown> {
  return handle;
}

export async function watchingAFlow(handle: FlowHandle<number>): Promise<void> {
  expectTypeOf(await handle.progress()).toEqualTypeOf<unknown>();
  expectTypeOf(await handle.progress<{ done: number }>()).toEqualTypeOf<
    { done: number } | undefined
  >();
  for await (const update of handle.watch<{ done: number }>({ signal: AbortSignal.timeout(1) })) {
    expectTypeOf(update).toEqualTypeOf<FlowProgressUpdate<{ done: number }>>();
    expectTypeOf(update).toExtend<JobProgressUpdate<{ done: number }>>();
    expectTypeOf(update.step).toEqualTypeOf<FlowStepRef>();
    expectTypeOf(update.step.stage).toEqualTypeOf<number>();
    expectTypeOf(update.step.branch).toEqualTypeOf<number | undefined>();
    expectTypeOf(update.step.jobId).toEqualTypeOf<string>();
  }
}

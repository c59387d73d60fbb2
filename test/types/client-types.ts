/**
 * Compile-time tests of the generated client (test/codegen/expected/basic.ts). This file is
 * type-checked, never run: each `@ts-expect-error` must meet an error, or tsc fails (TS2578).
 * The same misuses without the directives are in fixtures/misuse.ts, where the test asserts
 * that each line fails.
 */
import { Priority, type JobHandle } from "repid";
import { expectTypeOf } from "vitest";
import {
  createJobs,
  jobs,
  registry,
  type ActorArgs,
  type ActorParsedArgs,
  type ActorResult,
  type CategorizeArgs,
  type Level,
  type MaybeArgs,
  type Plan,
  type SendEmailArgs,
  type SendEmailResult,
} from "../codegen/expected/basic.js";

export async function correctCalls(): Promise<void> {
  const handle = await jobs.sendEmail.enqueue(
    { to: "a@b.c", subject: "Hi", cc: [] },
    { priority: Priority.HIGH, retries: 3, timeout: "5s", id: "mail-1", storeResult: true },
  );
  expectTypeOf(handle).toEqualTypeOf<JobHandle<SendEmailResult>>();
  expectTypeOf(await handle.result()).toEqualTypeOf<{ messageId: string; accepted: boolean }>();
  await jobs.ping.enqueue();
  await jobs.ping.enqueue(undefined, { deferBy: "1m" });
  await jobs.maybe.enqueue();
  await jobs.maybe.enqueue({ n: undefined, point: [1], when: new Date() });
  await jobs.maybe.enqueue({ n: 2, point: [1, 2], when: "2024-01-01T00:00:00Z" });
  await jobs.importCustomers.enqueue({ items: [], total: 0 });
  await jobs.sumSquares.enqueue({ upTo: 10 });
  const total: number = await jobs.sumSquares.result("some-id");
  void total;
  await createJobs().geocode.enqueue({ street: "Main", country: "FR", zip: null });
}

export function exportedTypes(): void {
  expectTypeOf<ActorArgs<"send_email">>().toEqualTypeOf<SendEmailArgs>();
  expectTypeOf<ActorArgs<"maybe">>().toEqualTypeOf<MaybeArgs>();
  expectTypeOf<ActorParsedArgs<"maybe">>().toEqualTypeOf<
    { n: number | undefined; point: [number, number?]; when: Date } | undefined
  >();
  expectTypeOf<ActorResult<"maybe">>().toEqualTypeOf<Date>();
  expectTypeOf<ActorResult<"ping">>().toEqualTypeOf<void>();
  expectTypeOf<ActorArgs<"categorize">>().toEqualTypeOf<CategorizeArgs>();
  expectTypeOf<CategorizeArgs["level"]>().toEqualTypeOf<Level>();
  expectTypeOf<CategorizeArgs["plan"]>().toEqualTypeOf<Plan.Pro>();
  expectTypeOf(registry.send_email.queue).toEqualTypeOf<"mail">();
  expectTypeOf(registry["import-customers"].property).toEqualTypeOf<"importCustomers">();
}

export async function misuses(): Promise<void> {
  // @ts-expect-error wrong field type
  await jobs.sendEmail.enqueue({ to: 42, subject: "Hi", cc: [] });
  // @ts-expect-error missing required field
  await jobs.sendEmail.enqueue({ to: "a@b.c", cc: [] });
  // @ts-expect-error extra field
  await jobs.sendEmail.enqueue({ to: "a@b.c", subject: "Hi", cc: [], bcc: [] });
  // @ts-expect-error unknown actor
  await jobs.sendSms.enqueue({ to: "a@b.c" });
  // @ts-expect-error wrong option type
  await jobs.sendEmail.enqueue({ to: "a@b.c", subject: "Hi", cc: [] }, { retries: "3" });
  // Flow-control options of the client: ttl and dedupe (with an id), durations checked by form.
  await jobs.sendEmail.enqueue(
    { to: "a@b.c", subject: "Hi", cc: [] },
    { id: "welcome:1", dedupe: "10m", ttl: "1h" },
  );
  // @ts-expect-error a duration is checked by form
  await jobs.sendEmail.enqueue({ to: "a@b.c", subject: "Hi", cc: [] }, { ttl: "1 hour" });
  // @ts-expect-error dedupe is a duration
  await jobs.sendEmail.enqueue({ to: "a@b.c", subject: "Hi", cc: [] }, { dedupe: true });
  await jobs.sendEmail.enqueue(
    { to: "a@b.c", subject: "Hi", cc: [] },
    { id: "d:1", debounce: "300ms" },
  );
  // @ts-expect-error debounce is a duration
  await jobs.sendEmail.enqueue({ to: "a@b.c", subject: "Hi", cc: [] }, { debounce: "soon" });
  // @ts-expect-error the actor fixes the queue
  await jobs.sendEmail.enqueue({ to: "a@b.c", subject: "Hi", cc: [] }, { queue: "other" });
  // @ts-expect-error args are required
  await jobs.sendEmail.enqueue();
  // @ts-expect-error a no-args actor takes none
  await jobs.ping.enqueue({ x: 1 });
  const handle = await jobs.sendEmail.enqueue({ to: "a@b.c", subject: "Hi", cc: [] });
  const result = await handle.result();
  // @ts-expect-error misuse of the result type
  result.messageId.toFixed();
  // @ts-expect-error misuse of the result type
  const n: number = await jobs.geocode.result("id");
  void n;
  const tree = { name: "a", children: [] };
  // @ts-expect-error the enum member literal is enforced
  await jobs.categorize.enqueue({ tree, status: "active", plan: "free", level: 0 });
}

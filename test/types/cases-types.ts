/**
 * Compile-time tests of the issue-17 cases (test/codegen/expected/cases.ts): the right call of
 * each case compiles here; the wrong ones are in fixtures/cases-misuse.ts, where each must fail.
 * Also compiled under the strictest options and `tsc --init` defaults (type-tests.test.ts).
 */
import { expectTypeOf } from "vitest";
import { Account } from "../codegen/fixtures/cases/classes.js";
import {
  jobs,
  type ActorArgs,
  type ActorParsedArgs,
  type ActorResult,
  type Cents,
  type Json,
  type UserId,
} from "../codegen/expected/cases.js";

export async function rightCalls(): Promise<void> {
  // 1. Recursive JSON is a real type for consumers, not `any`.
  await jobs.storeJson.enqueue({
    doc: { a: [1, "x", null, { b: true }] },
    list: { value: 1, next: { value: 2, next: null } },
    expr: { op: "add", left: { op: "num", value: 1 }, right: { op: "num", value: 2 } },
  });
  expectTypeOf(await jobs.storeJson.result("id")).toEqualTypeOf<Json>();
  expectTypeOf<Json>().not.toBeAny();
  // 2. Optional keys take undefined (also under exactOptionalPropertyTypes); arrays hold it.
  await jobs.saveProfile.enqueue({
    nickname: undefined,
    tags: ["a", undefined],
    pair: [1, undefined],
    point: [1],
    bio: undefined,
  });
  expectTypeOf<ActorResult<"saveProfile">["w"]>().toEqualTypeOf<undefined>();
  // 3. Either member of an overlapping union; a discriminated member by its tag.
  await jobs.notify.enqueue({
    who: { name: "Ada", email: "a@b.c" },
    shape: { kind: "circle", radius: 1 },
    event: { id: "e", sighting: { when: "2024-01-01T00:00:00Z", note: "" } },
  });
  expectTypeOf<ActorParsedArgs<"notify">["event"]>().toEqualTypeOf<
    { id: string; sighting: { when: Date; note: string } } | { id: string }
  >();
  // 4. Readonly arrays and `as const` values.
  const tags = ["a", "b"] as const;
  await jobs.tagAll.enqueue({
    tags,
    scores: [1, 2] as const,
    origin: { x: 1, y: 2 },
    pair: ["p", 1] as const,
  });
  expectTypeOf<ActorArgs<"tagAll">["origin"]>().toEqualTypeOf<{
    readonly x: number;
    readonly y: number;
  }>();
  // 5. Rest elements first and in the middle; optional elements.
  await jobs.plot.enqueue({
    last: ["a", 1],
    middle: ["s", 1, 2, true],
    tail: ["t"],
    optional: [1],
  });
  expectTypeOf<ActorArgs<"plot">["last"]>().toEqualTypeOf<[...string[], number]>();
  // 6. A default parameter value: the arguments may be left out.
  await jobs.resize.enqueue();
  // 7. Private fields are not asked for; an instance of the class fits.
  await jobs.audit.enqueue({ id: "a" });
  await jobs.audit.enqueue(new Account("a", "s"));
  // 8. Brands and template literals are kept at compile time.
  const user = "u-1" as UserId;
  await jobs.chargeUser.enqueue({
    user,
    amount: 250 as Cents,
    key: "user_42",
    version: "v1.2",
    level: "level-low",
    color: "teal",
  });
  expectTypeOf(await jobs.chargeUser.result("id")).toEqualTypeOf<UserId>();
  // 9. Ambient namespace and declared module types.
  await jobs.applySettings.enqueue({
    settings: { theme: "dark", fontSize: 12 },
    invoice: { total: 1, lines: [] },
  });
}

// `tsc --init` leaves @types/node out; class 8 compares with node's own ParsedPath.
/// <reference types="node" />
/**
 * Compile-time tests of the edge types (test/codegen/expected/edge-types.ts, generated from
 * test/codegen/fixtures/edge-types): each right call compiles, and each `@ts-expect-error` must
 * meet an error. type-tests.test.ts compiles this file under the repository's tsconfig, the
 * strictest flags (exactOptionalPropertyTypes, noUncheckedIndexedAccess) and `tsc --init`.
 * The run-time side of each class is in test/codegen/edge-types.test.ts, and so is class 10
 * (actors' TSDoc on the client), which the language service checks.
 */
import type { JSONSchema7 as RealJSONSchema7 } from "json-schema";
import { parse, type ParsedPath as NodeParsedPath } from "node:path";
import { expectTypeOf } from "vitest";
import {
  jobs,
  type ActorArgs,
  type ActorParsedArgs,
  type ActorResult,
  type Attributes,
  type Element,
  type JsonInput,
  type ParsedPath,
  type Polluted,
  type Sparse,
  type XmlNode,
} from "../codegen/expected/edge-types.js";
import { Tagged } from "../codegen/fixtures/edge-types/hash-keys.js";

/** 1. Keys spelled `#text` are data; a private `#name` of a class is not. */
export async function hashKeys(): Promise<void> {
  const node = { "#text": "t", "@_id": "i" };
  await jobs.storeXml.enqueue({ node, inline: { "#comment": ["c"] }, tagged: new Tagged("l") });
  await jobs.storeXml.enqueue({ node, inline: { "#comment": [] }, tagged: { label: "l" } });
  expectTypeOf<XmlNode["#text"]>().toEqualTypeOf<string>();
  expectTypeOf<XmlNode["#cdata"]>().toEqualTypeOf<number | undefined>();
  expectTypeOf<ActorResult<"storeXml">>().toEqualTypeOf<{ "#count": number }>();
  const tagged = { label: "l" };
  // @ts-expect-error `#text` is required
  await jobs.storeXml.enqueue({ node: { "@_id": "i" }, inline: { "#comment": [] }, tagged });
  // @ts-expect-error `#comment` holds strings
  await jobs.storeXml.enqueue({ node, inline: { "#comment": [1] }, tagged });
  // @ts-expect-error the private name is not part of the message
  expectTypeOf<ActorArgs<"storeXml">["tagged"]>().toHaveProperty("#secret");
}

/** 2. Template-literal index signatures keep their pattern beside known keys. */
export async function templatePatterns(): Promise<void> {
  const element = { count: 1, tag: "div", "data-id": "x" } as const;
  const attributes = { id: "a", "aria-hidden": true, onClick: "go()", "at-1": new Date() };
  const args = {
    element,
    attributes,
    versions: { v1: "a", "v2.5": "b" },
    sparse: { label: "l", size: 2, 0: true },
    scores: { 1: 10 },
    both: { name: "n", other: "o", "n-1": 1 },
    mixed: { id: "m", "x-1": 1 },
  };
  await jobs.render.enqueue(args);
  await jobs.render.enqueue({
    ...args,
    attributes: { ...attributes, "at-2": "2024-01-01T00:00:00Z" },
  });
  expectTypeOf<Element[`data-${string}`]>().toEqualTypeOf<string>();
  expectTypeOf<Element["count"]>().toEqualTypeOf<number>();
  expectTypeOf<Attributes[`at-${number}`]>().toEqualTypeOf<Date>();
  expectTypeOf<ActorArgs<"render">["attributes"][`at-${number}`]>().toEqualTypeOf<Date | string>();
  // @ts-expect-error a key outside the pattern
  await jobs.render.enqueue({ ...args, element: { count: 1, tag: "div", other: "x" } });
  // @ts-expect-error `data-` values are strings
  await jobs.render.enqueue({ ...args, element: { count: 1, tag: "div", "data-n": 1 } });
  // @ts-expect-error `aria-` values are booleans
  await jobs.render.enqueue({ ...args, attributes: { id: "a", "aria-hidden": "yes" } });
  // @ts-expect-error `v` keys end in a number
  await jobs.render.enqueue({ ...args, versions: { vNext: "a" } });
  // @ts-expect-error `n-` keys hold numbers, even where any string key could hold a string
  await jobs.render.enqueue({ ...args, both: { name: "n", "n-1": "one" } });
  // @ts-expect-error `x-` keys hold numbers, beside the other member's keys
  await jobs.render.enqueue({ ...args, mixed: { id: "m", "x-1": "1" } });
}

/** 3. Numeric index signatures beside named keys. */
export async function numericKeys(): Promise<void> {
  const base = {
    element: { count: 1, tag: "div" },
    attributes: { id: "a" },
    versions: {},
    scores: { 1: 10, 2.5: 20 },
    both: { name: "n" },
    mixed: { id: "m" },
  } as const;
  await jobs.render.enqueue({ ...base, sparse: { label: "l", size: 2, 0: true, 7: false } });
  expectTypeOf<Sparse[number]>().toEqualTypeOf<boolean>();
  expectTypeOf<Sparse["label"]>().toEqualTypeOf<string>();
  // @ts-expect-error numeric keys hold booleans
  await jobs.render.enqueue({ ...base, sparse: { label: "l", size: 2, 0: "yes" } });
  // @ts-expect-error a key that is not a number
  await jobs.render.enqueue({ ...base, sparse: { label: "l", size: 2, one: true } });
  // @ts-expect-error `scores` is keyed by numbers only
  await jobs.render.enqueue({ ...base, sparse: { label: "l", size: 2 }, scores: { one: 1 } });
}

/** 4. `Date | string`: producers send either; the actor and the client read either. */
export async function datesOrStrings(): Promise<void> {
  const now = new Date();
  await jobs.schedule.enqueue({
    when: now,
    alias: "2024-01-01T00:00:00Z",
    list: [now, "tomorrow"],
    maybe: null,
    nested: { at: "soon", label: "l" },
  });
  expectTypeOf<ActorArgs<"schedule">["when"]>().toEqualTypeOf<Date | string>();
  expectTypeOf<ActorParsedArgs<"schedule">["when"]>().toEqualTypeOf<Date | string>();
  expectTypeOf<ActorParsedArgs<"schedule">["list"]>().toEqualTypeOf<(Date | string)[]>();
  expectTypeOf<ActorResult<"schedule">["at"]>().toEqualTypeOf<Date | string>();
  // @ts-expect-error a number is neither a Date nor a string
  await jobs.schedule.enqueue({ when: 1, alias: now, list: [], nested: { at: now, label: "l" } });
}

/** 5. A `__proto__` key is data, and so are the other keys every object inherits. */
export async function protoKey(): Promise<void> {
  const polluted = { ["__proto__"]: "p", name: "n" };
  const inherited = { constructor: "c", toString: "t", valueOf: 1 };
  await jobs.guard.enqueue({ polluted, optional: { ok: true }, inherited });
  expectTypeOf<Polluted["__proto__"]>().toEqualTypeOf<string>();
  expectTypeOf<ActorResult<"guard">["__proto__"]>().toEqualTypeOf<string>();
  expectTypeOf<ActorArgs<"guard">["inherited"]["valueOf"]>().toEqualTypeOf<number>();
  const optional = { ok: true };
  // @ts-expect-error `__proto__` holds a string
  await jobs.guard.enqueue({ polluted: { ["__proto__"]: 1, name: "n" }, optional, inherited });
  // @ts-expect-error `valueOf` holds a number
  await jobs.guard.enqueue({ polluted, optional, inherited: { valueOf: "1" } });
}

/** 6. `undefined` values of records: a key JSON leaves out, allowed where the value type allows it. */
export async function undefinedInRecords(): Promise<void> {
  await jobs.tagRecords.enqueue({
    meta: { a: 1, gone: undefined },
    labels: { a: "x", gone: undefined },
    strict: { a: "x" },
    open: { id: "i", extra: [1], gone: undefined },
  });
  const args = { meta: {}, labels: {}, open: { id: "i" } };
  // @ts-expect-error a `Record<string, string>` holds strings only
  await jobs.tagRecords.enqueue({ ...args, strict: { a: undefined } });
}

/** 7. Interfaces extending Array are arrays: recursive JSON types and JSONSchema7. */
export async function arrayInterfaces(schema: RealJSONSchema7): Promise<void> {
  const args = { schema, value: { a: [1, "x", null, { b: true }] }, frozen: ["a"], numbers: [1] };
  await jobs.validateDocument.enqueue(args);
  await jobs.validateDocument.enqueue({
    ...args,
    schema: {
      type: "object",
      properties: { a: { type: ["string", "null"] } },
      enum: [1, [2], { x: null }],
    },
  });
  expectTypeOf<ActorArgs<"validateDocument">["frozen"]>().toEqualTypeOf<readonly string[]>();
  expectTypeOf<ActorArgs<"validateDocument">["numbers"]>().toEqualTypeOf<number[]>();
  // @ts-expect-error a list of numbers
  await jobs.validateDocument.enqueue({ ...args, numbers: ["1"] });
  // @ts-expect-error `type` names a JSON Schema type
  await jobs.validateDocument.enqueue({ ...args, schema: { type: "text" } });
}

/** 8. Data-only interfaces of the standard library and @types/node are copied. */
export async function libInterfaces(file: NodeParsedPath): Promise<void> {
  const options: Intl.DateTimeFormatOptions = { dateStyle: "short", timeZone: "UTC" };
  await jobs.formatDate.enqueue({ options, file: parse("/a/b.txt") });
  await jobs.formatDate.enqueue({ options: { hour12: true }, file });
  expectTypeOf(await jobs.formatDate.result("id")).toEqualTypeOf<ParsedPath>();
  expectTypeOf<ParsedPath>().toEqualTypeOf<NodeParsedPath>();
  // @ts-expect-error `dateStyle` is one of its words
  await jobs.formatDate.enqueue({ options: { dateStyle: "tiny" }, file });
  // @ts-expect-error a parsed path has an `ext`
  await jobs.formatDate.enqueue({ options, file: { root: "/", dir: "/a", base: "b", name: "b" } });
}

/** 9. Producers send a JSON value for `unknown`. */
export async function unknownValues(): Promise<void> {
  await jobs.inspect.enqueue({ a: [1, "x", null, { b: true, c: undefined }] });
  await jobs.inspect.enqueue("text");
  await jobs.inspect.enqueue(1);
  await jobs.inspect.enqueue(null);
  await jobs.inspect.enqueue([1, [2, { three: 3 }]] as const);
  await jobs.inspectMany.enqueue({
    payload: { deep: [1] },
    items: [1, "a", null],
    maybe: undefined,
  });
  await jobs.inspectMany.enqueue({ payload: undefined, items: [] });
  expectTypeOf<ActorArgs<"inspect">>().toEqualTypeOf<JsonInput>();
  expectTypeOf<ActorParsedArgs<"inspect">>().toBeUnknown();
  expectTypeOf<ActorParsedArgs<"inspectMany">["payload"]>().toBeUnknown();
  expectTypeOf(await jobs.inspectMany.result("id")).toBeUnknown();
  // @ts-expect-error a Map is not a JSON value
  await jobs.inspect.enqueue(new Map([["a", 1]]));
  // @ts-expect-error nor is a function
  await jobs.inspect.enqueue(() => 1);
  // @ts-expect-error nor a Date (its methods are not data)
  await jobs.inspect.enqueue(new Date());
  // @ts-expect-error nor a bigint
  await jobs.inspect.enqueue(1n);
  // @ts-expect-error the argument is a value, which `undefined` is not
  await jobs.inspect.enqueue();
  // @ts-expect-error nested, a Map is still not a JSON value
  await jobs.inspectMany.enqueue({ payload: { m: new Map() }, items: [] });
  // @ts-expect-error an array element cannot be `undefined` (JSON would write `null`)
  await jobs.inspectMany.enqueue({ payload: 1, items: [undefined] });
}

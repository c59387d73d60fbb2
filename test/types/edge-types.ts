/**
 * Compile-time tests of the edge types (test/codegen/expected/edge-types.ts, generated from
 * test/codegen/fixtures/edge-types): each right call compiles, and each `@ts-expect-error` must
 * meet an error. type-tests.test.ts compiles this file under the repository's tsconfig, the
 * strictest flags (exactOptionalPropertyTypes, noUncheckedIndexedAccess) and `tsc --init`.
 * The run-time side of each class is in test/codegen/edge-types.test.ts.
 */
import { expectTypeOf } from "vitest";
import {
  jobs,
  type ActorArgs,
  type ActorResult,
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

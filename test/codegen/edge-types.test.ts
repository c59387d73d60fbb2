import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { registry } from "./expected/edge-types.js";

/**
 * Run-time side of the edge types (fixtures in test/codegen/fixtures/edge-types, generated into
 * test/codegen/expected/edge-types.ts; the compile-time side is test/types/edge-types.ts): what
 * the producer's schema accepts must survive JSON and pass the worker's schema, and what the
 * types refuse the schemas refuse.
 */
type Name = keyof typeof registry;
const json = (value: unknown): unknown =>
  value === undefined ? undefined : JSON.parse(JSON.stringify(value));

function schemaOf(name: Name, part: "args" | "result" = "args"): z.ZodType {
  return (registry[name] as unknown as Record<"args" | "result", z.ZodType>)[part];
}

/** Producer validation, JSON, worker validation: returns what the actor receives. */
function send(name: Name, args: unknown): unknown {
  const schema = schemaOf(name);
  const produced = schema.safeParse(args);
  expect(produced.error?.issues, `producer validation of ${name}`).toBeUndefined();
  const worker = schema.safeParse(json(args));
  expect(worker.error?.issues, `worker validation of ${name}`).toBeUndefined();
  const fromParsed = schema.safeParse(json(produced.data));
  expect(fromParsed.error?.issues, `worker validation of ${name} (parsed)`).toBeUndefined();
  expect(fromParsed.data).toStrictEqual(worker.data);
  return worker.data;
}

function refuses(name: Name, args: unknown, part: "args" | "result" = "args"): void {
  expect(schemaOf(name, part).safeParse(args).success, JSON.stringify(args)).toBe(false);
}

describe("edge types: run-time checks agree with the generated types", () => {
  it("1. `#` keys written as strings are data; a private `#name` is not", () => {
    const node = { "#text": "t", "#cdata": 2, "@_id": "i" };
    const tagged = { label: "l", "#secret": "not data" };
    const args = { node, inline: { "#comment": ["c"] }, tagged };
    expect(send("storeXml", args)).toStrictEqual({ ...args, tagged: { label: "l" } });
    expect(schemaOf("storeXml", "result").parse(json({ "#count": 1, "#other": 2 }))).toStrictEqual({
      "#count": 1,
    });
    refuses("storeXml", { ...args, node: { "@_id": "i" } });
    refuses("storeXml", { ...args, node: { ...node, "#text": 1 } });
    refuses("storeXml", { ...args, inline: { "#comment": [1] } });
    refuses("storeXml", {}, "result");
  });
});

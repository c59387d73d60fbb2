import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { registry } from "./expected/edge-types.js";
import { tempProject } from "../types/temp-project.js";
import { ROOT } from "./helpers.js";

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

  const element = { count: 1, tag: "div", "data-id": "x" };
  const attributes = { id: "a", "aria-hidden": true, onClick: "go()" };
  const render = {
    element,
    attributes,
    versions: { v1: "a", "v2.5": "b" },
    sparse: { label: "l", size: 2, "0": true, "7": false },
    scores: { "1": 10, "2.5": 20, "-1": 0 },
    both: { name: "n", other: "o", "n-1": 1 },
    mixed: { id: "m", "x-1": 1 },
  };

  it("2. template-literal index signatures validate keys by their pattern, beside known keys", () => {
    const at = "2024-05-01T10:00:00.000Z";
    const received = send("render", { ...render, attributes: { ...attributes, "at-1": at } });
    expect(received).toStrictEqual({
      ...render,
      attributes: { ...attributes, "at-1": new Date(at) },
    });
    const wrong = [
      { element: { ...element, other: "x" } },
      { element: { ...element, "data-n": 1 } },
      { element: { ...element, count: "1" } },
      { attributes: { ...attributes, "aria-x": "yes" } },
      { attributes: { ...attributes, "at-x": at } },
      { attributes: { ...attributes, "at-1": "yesterday" } },
      { versions: { version: "a" } },
      { both: { name: "n", "n-1": "one" } },
      { both: { name: "n", other: true } },
      { mixed: { id: "m", "x-1": "1" } },
      { mixed: { "x-1": 1 } },
    ];
    for (const w of wrong) refuses("render", { ...render, ...w });
    const result = schemaOf("render", "result");
    expect(result.parse(json(element))).toStrictEqual(element);
    expect(result.safeParse({ ...element, extra: "x" }).success).toBe(false);
  });

  it("3. numeric index signatures take keys that read as numbers, beside named keys", () => {
    expect(send("render", render)).toStrictEqual(render);
    const wrong = [
      { sparse: { label: "l", size: 2, "0": "yes" } },
      { sparse: { label: "l", size: 2, one: true } },
      { sparse: { label: "l", size: 2, "01": true } },
      { sparse: { label: 1, size: 2 } },
      { sparse: { size: 2 } },
      { scores: { one: 1 } },
      { scores: { "1": "10" } },
    ];
    for (const w of wrong) refuses("render", { ...render, ...w });
  });

  it("4. `Date | string`: a Date arrives as a Date, another string as itself", () => {
    const when = new Date("2024-05-01T10:00:00.000Z");
    const args = {
      when,
      alias: "2024-05-01T10:00:00.000Z",
      list: [when, "tomorrow"],
      maybe: null,
      nested: { at: "soon", label: "l" },
    };
    expect(send("schedule", args)).toStrictEqual({
      ...args,
      alias: when,
      list: [when, "tomorrow"],
    });
    expect(send("schedule", { ...args, when: "hello" })).toMatchObject({ when: "hello" });
    const result = schemaOf("schedule", "result");
    expect(result.parse(json({ at: when, echo: [when, "x"] }))).toStrictEqual({
      at: when,
      echo: [when, "x"],
    });
    refuses("schedule", { ...args, when: 1 });
    refuses("schedule", { ...args, when: new Date("invalid") });
    refuses("schedule", { ...args, list: [1] });
  });

  it("5. a `__proto__` key is data, validated, and never sets a prototype; inherited names are own keys", () => {
    const wire =
      '{"polluted":{"__proto__":"p","name":"n"},"optional":{"__proto__":3,"ok":true},"inherited":{"valueOf":1}}';
    const received = send("guard", JSON.parse(wire)) as { polluted: object };
    expect(JSON.stringify(received)).toBe(wire);
    expect(Object.getPrototypeOf(received.polluted)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(received.polluted, "__proto__")?.value).toBe("p");
    const polluted = { ["__proto__"]: "p", name: "n" };
    const args = { polluted, optional: { ok: true }, inherited: { valueOf: 1 } };
    expect(send("guard", args)).toStrictEqual(args);
    const inherited = { constructor: "c", toString: "t", valueOf: 2 };
    expect(send("guard", { ...args, inherited })).toStrictEqual({ ...args, inherited });
    const wrong: Record<string, unknown>[] = [
      { polluted: JSON.parse('{"__proto__":1,"name":"n"}') },
      { polluted: { name: "n" } },
      { optional: JSON.parse('{"__proto__":"3","ok":true}') },
      { inherited: { valueOf: 1, constructor: 1 } },
      { inherited: {} },
    ];
    for (const w of wrong) refuses("guard", { ...args, ...w });
    const result = schemaOf("guard", "result").parse(JSON.parse('{"__proto__":"r"}')) as object;
    expect(Object.getOwnPropertyDescriptor(result, "__proto__")?.value).toBe("r");
    const text = readFileSync(join(ROOT, "test/codegen/expected/edge-types.ts"), "utf8");
    // In an object literal `__proto__: x` sets the prototype; the generated schemas never say it.
    expect(text.split("/* repid-gen compat manifest")[0]).not.toMatch(/^\s*__proto__:\s*z/m);
  });

  it("6. `undefined` values of records and index signatures: allowed where the type allows them, and JSON leaves the key out", () => {
    const args = {
      meta: { a: 1, gone: undefined },
      labels: { a: "x", gone: undefined },
      strict: { a: "x" },
      open: { id: "i", extra: [1], gone: undefined },
    };
    expect(send("tagRecords", args)).toStrictEqual({
      meta: { a: 1 },
      labels: { a: "x" },
      strict: { a: "x" },
      open: { id: "i", extra: [1] },
    });
    refuses("tagRecords", { ...args, strict: { a: undefined } });
    refuses("tagRecords", { ...args, meta: { a: () => 1 } });
    refuses("tagRecords", { ...args, open: { id: "i", extra: new Map() } });
  });

  it("7. interfaces extending Array are arrays: recursive JSON and JSONSchema7", () => {
    const schema = {
      $id: "s",
      type: "object",
      properties: { a: { type: ["string", "null"], default: "x" }, b: true },
      required: ["a"],
      items: [{ type: "number" }, false],
      enum: [1, "a", null, [1, [2]], { x: { y: [true] } }],
      definitions: { d: { anyOf: [{ const: 1 }, { const: [1] }] } },
    };
    const args = { schema, value: [1, "x", null, { b: [true] }], frozen: ["a"], numbers: [1, 2] };
    expect(send("validateDocument", args)).toStrictEqual(args);
    expect(schemaOf("validateDocument", "result").parse([[{ a: 1 }]])).toStrictEqual([[{ a: 1 }]]);
    refuses("validateDocument", { ...args, numbers: ["1"] });
    refuses("validateDocument", { ...args, frozen: "a" });
    refuses("validateDocument", { ...args, schema: { type: "text" } });
    refuses("validateDocument", { ...args, value: [() => 1] });
  });

  it("8. data-only interfaces of the standard library and @types/node are checked as copied", () => {
    const args = {
      options: { dateStyle: "short", timeZone: "UTC", hour12: true },
      file: { root: "/", dir: "/a", base: "b.txt", ext: ".txt", name: "b" },
    };
    expect(send("formatDate", args)).toStrictEqual(args);
    refuses("formatDate", { ...args, options: { dateStyle: "tiny" } });
    refuses("formatDate", { ...args, file: { root: "/" } });
  });

  it("9. `unknown` takes JSON values and refuses the rest", () => {
    for (const value of [{ a: [1, "x", null, { b: true }] }, "text", 1, null, [1, [2]], false])
      expect(send("inspect", value)).toStrictEqual(value);
    for (const value of [new Map([["a", 1]]), () => 1, undefined, Number.NaN, [undefined]])
      refuses("inspect", value);
    expect(
      send("inspectMany", { payload: { deep: [1], gone: undefined }, items: [1, null] }),
    ).toStrictEqual({ payload: { deep: [1] }, items: [1, null] });
    expect(send("inspectMany", { payload: undefined, items: [] })).toStrictEqual({ items: [] });
  });
});

describe("edge types: docs of actors and their properties reach the client (10)", () => {
  const dir = tempProject({
    "registry.ts": readFileSync(join(ROOT, "test/codegen/expected/edge-types.ts"), "utf8"),
    "use.ts": [
      'import { jobs } from "./registry.js";',
      'await jobs.sendLegacyNewsletter.enqueue({ to: "a", html: true });',
      'await jobs.sendNewsletter.enqueue({ to: "a" });',
      "await jobs.ping.enqueue();",
      "",
    ].join("\n"),
  });
  const file = join(dir, "use.ts");
  const text = readFileSync(file, "utf8");
  const service = languageService(dir, [join(dir, "registry.ts"), file]);

  it("shows an actor's doc and tags on its client property", () => {
    const info = service.getQuickInfoAtPosition(file, text.indexOf("sendLegacyNewsletter"));
    const doc = ts.displayPartsToString(info?.documentation);
    expect(doc).toContain("Sends the old newsletter.");
    const tags = (info?.tags ?? []).map((t) => `@${t.name} ${ts.displayPartsToString(t.text)}`);
    expect(tags).toContain("@deprecated Use `sendNewsletter`: it knows about unsubscribes.");
    expect(tags).toContain("@see https://example.com/newsletters");
  });

  it("marks deprecated actors as deprecated where they are used (editors strike them through)", () => {
    const deprecated = service
      .getSuggestionDiagnostics(file)
      .filter((d) => d.reportsDeprecated)
      .map((d) => text.slice(d.start, d.start! + d.length!));
    expect(deprecated.sort()).toEqual(["ping", "sendLegacyNewsletter"]);
  });

  it("keeps the doc and tags of an argument property", () => {
    const to = service.getQuickInfoAtPosition(file, text.indexOf("to:"));
    expect(ts.displayPartsToString(to?.documentation)).toBe("Who gets it.");
    const html = service.getQuickInfoAtPosition(file, text.indexOf("html:"));
    expect(ts.displayPartsToString(html?.documentation)).toBe("Whether to send HTML.");
    expect(html?.tags?.map((t) => [t.name, ts.displayPartsToString(t.text)])).toEqual([
      ["deprecated", "Every newsletter is HTML now."],
    ]);
  });
});

function languageService(dir: string, files: string[]): ts.LanguageService {
  const config = ts.readConfigFile(join(dir, "tsconfig.json"), (p) => ts.sys.readFile(p));
  const options = ts.parseJsonConfigFileContent(config.config, ts.sys, dir).options;
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => options,
    getScriptFileNames: () => files,
    getScriptVersion: () => "1",
    getScriptSnapshot: (name) => {
      const content = ts.sys.readFile(name);
      return content === undefined ? undefined : ts.ScriptSnapshot.fromString(content);
    },
    getCurrentDirectory: () => dir,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (name) => ts.sys.fileExists(name),
    readFile: (name) => ts.sys.readFile(name),
    readDirectory: (...args) => ts.sys.readDirectory(...args),
    directoryExists: (name) => ts.sys.directoryExists(name),
    getDirectories: (name) => ts.sys.getDirectories(name),
    realpath: (name) => ts.sys.realpath?.(name) ?? name,
  };
  return ts.createLanguageService(host, ts.createDocumentRegistry());
}

import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { loadScripts } from "../../src/brokers/redis/scripts.js";
import { splitPrelude, withPrelude } from "../../src/brokers/redis/script-prelude.js";

const PRELUDE = [
  "-- a comment",
  "local A = 1",
  "local later",
  "local function uses_a(x)",
  "  return x + A",
  "end",
  "",
  "local function unused()",
  "  return 'unused'",
  "end",
  "local function calls_later()",
  "  return later()",
  "end",
  "later = function()",
  "  -- mentions unused only in a comment",
  "  return uses_a(1)",
  "end",
].join("\n");

describe("the Lua prelude, cut to what a script uses", () => {
  it("keeps the definitions a body reaches, through others and forward declarations, in order", () => {
    const text = withPrelude(splitPrelude(PRELUDE), "return calls_later()");
    expect(text).not.toContain("unused()");
    const order = [
      "local A = 1",
      "local later",
      "local function uses_a",
      "local function calls_later",
      "later = function",
    ];
    const at = order.map((line) => text.indexOf(line));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text.endsWith("return calls_later()")).toBe(true);
  });

  it("keeps nothing for a body that uses no helper", () => {
    expect(withPrelude(splitPrelude(PRELUDE), "return 1")).toBe("return 1");
  });

  it("refuses a prelude with top-level text it cannot place, or a block that never ends", () => {
    expect(() => splitPrelude("local t = {\n  a = 1,\n}")).toThrow(/line 3/);
    expect(() => splitPrelude("local function f()\n  return 1")).toThrow(/never ends/);
  });
});

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
afterAll(() => redis.disconnect());

describe("every script, cut down, against Redis", () => {
  it("compiles, and names no global that Redis's script environment lacks", async () => {
    // Redis refuses to read an unknown global at run time only; compile-time checks cannot see
    // a helper left out. So every free name of each script must be a Lua or Redis global.
    const known = new Set([
      "redis",
      "cjson",
      "cmsgpack",
      "bit",
      "struct",
      "string",
      "table",
      "math",
      "tonumber",
      "tostring",
      "type",
      "pairs",
      "ipairs",
      "next",
      "unpack",
      "select",
      "error",
      "pcall",
      "assert",
      "KEYS",
      "ARGV",
      "nil",
      "true",
      "false",
      "setmetatable",
      "getmetatable",
      "rawget",
      "rawset",
      "xpcall",
      "loadstring",
    ]);
    for (const [name, script] of loadScripts(true)) {
      await expect(redis.script("LOAD", script.lua), name).resolves.toBe(script.sha);
      const source = script.lua
        .replace(/^#![^\n]*/, "")
        .replace(/--[^\n]*/g, "")
        .replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
      const locals = new Set(
        [
          ...source.matchAll(
            /\blocal[ \t]+function[ \t]+([A-Za-z_]\w*)|\blocal[ \t]+([A-Za-z_][\w \t,]*)/g,
          ),
        ].flatMap((m) => (m[1] ?? m[2]!).split(",").map((s) => s.trim().split(/\s/)[0]!)),
      );
      const params = new Set(
        [...source.matchAll(/function\s*[A-Za-z_]*\s*\(([^)]*)\)/g)].flatMap((m) =>
          m[1]!.split(",").map((s) => s.trim()),
        ),
      );
      const loops = new Set(
        [...source.matchAll(/\bfor[ \t]+([A-Za-z_][\w \t,]*?)[ \t]*(?:=|in\b)/g)].flatMap((m) =>
          m[1]!.split(",").map((s) => s.trim()),
        ),
      );
      const keywords = new Set(
        "and break do else elseif end for function if in local not or repeat return then until while".split(
          " ",
        ),
      );
      const free = [
        ...new Set(
          source
            .replace(/([{,][ \t\n]*)[A-Za-z_]\w*[ \t]*=(?!=)/g, "$1")
            .replace(/\.\s*[A-Za-z_]\w*/g, "")
            .replace(/:\s*[A-Za-z_]\w*/g, "")
            .match(/[A-Za-z_]\w*/g) ?? [],
        ),
      ].filter(
        (w) =>
          !keywords.has(w) && !known.has(w) && !locals.has(w) && !params.has(w) && !loops.has(w),
      );
      expect(free, name).toEqual([]);
    }
  });
});

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Parser } from "@asyncapi/parser";
import { describe, expect, it } from "vitest";
import { asyncApiDocument } from "../../codegen/asyncapi.js";
import { Generator } from "../../codegen/generate.js";
import { options } from "./helpers.js";

const root = new URL("../..", import.meta.url).pathname;
const run = promisify(execFile);

describe("repid-gen --asyncapi (issue 12)", () => {
  it("writes an AsyncAPI 3.0 document that the AsyncAPI parser accepts: a channel per queue, a message per actor", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "repid-asyncapi-")), "asyncapi.yaml");
    await run(process.execPath, [join(root, "bin/repid-gen.js"), "--asyncapi", out], {
      cwd: root,
    });
    const text = readFileSync(out, "utf8");
    const { document, diagnostics } = await new Parser().parse(text);
    // Severity 0 is an error; warnings and hints may remain.
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe("3.0.0");
    const channels = document!
      .channels()
      .all()
      .map((c) => [
        c.address(),
        c
          .messages()
          .all()
          .map((m) => m.name()),
      ]);
    expect(channels).toEqual([
      ["cpu", ["count_primes"]],
      ["emails", ["send_email"]],
      ["orders", ["process_order"]],
      ["payments", ["charge_card"]],
    ]);
    // The payload is the JSON Schema of the actor's arguments.
    const raw = JSON.parse(text);
    const payload = raw.components.messages.send_email.payload;
    expect(payload.type).toBe("object");
    expect(Object.keys(payload.properties)).toEqual(expect.arrayContaining(["to", "subject"]));
    expect(payload.required).toEqual(expect.arrayContaining(["to", "subject"]));
  });

  it("describes every type repid-gen supports (recursive, tuples, brands, templates, classes) validly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "repid-asyncapi-cases-"));
    const out = join(dir, "asyncapi.yaml");
    await run(
      process.execPath,
      [
        join(root, "bin/repid-gen.js"),
        "--actors",
        "test/codegen/fixtures/cases/**/*.ts",
        "--out",
        join(dir, "registry.ts"),
        "--asyncapi",
        out,
      ],
      { cwd: root },
    );
    const { document, diagnostics } = await new Parser().parse(readFileSync(out, "utf8"));
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
    expect(document!.messages().all().length).toBeGreaterThanOrEqual(9);
  });

  it("describes key patterns and a `__proto__` key as JSON Schema (edge types)", async () => {
    const glob = "test/codegen/fixtures/edge-types/**/*.ts";
    const document = async (globs: string[]) =>
      asyncApiDocument((await new Generator(options(globs, "none.ts")).render()).model);
    const doc = JSON.parse(JSON.stringify(await document([glob])));
    const schemas = doc.components.schemas;
    expect(schemas.Element.patternProperties).toEqual({ "^data-.*$": { type: "string" } });
    expect(schemas.Element.additionalProperties).toBe(false);
    expect(Object.keys(schemas.Sparse.patternProperties)).toHaveLength(1);
    expect(Object.keys(schemas.Polluted.properties)).toEqual(["__proto__", "name"]);
    // The AsyncAPI parser reads a `__proto__` key as a prototype, and a property named `$ref`
    // (JSONSchema7 has one) as a reference: it checks the rest.
    const rest = await document([glob, "!**/proto-key.ts", "!**/array-interfaces.ts"]);
    const { diagnostics } = await new Parser().parse(JSON.stringify(rest));
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
  });
});

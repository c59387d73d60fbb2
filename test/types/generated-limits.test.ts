import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { render } from "../codegen/helpers.js";
import { compile } from "./compile.js";
import { tempProject } from "./temp-project.js";

/**
 * The generated registry types each limit's `key` by the actor's generated argument type
 * (`satisfies repid.KeyPath<...>`), so that a key edited into a path that no longer exists, or
 * that ends at something other than a string or a number, fails to compile in the generated
 * file alone, as in the actor's file.
 */
describe("the generated registry's limit keys (compile-time check)", async () => {
  const text = await render(["test/codegen/fixtures/limits/*.ts"], "test/codegen/expected/none.ts");
  const edits: Record<string, [from: string, to: string]> = {
    "typo.ts": ['key: "account.id" satisfies', 'key: "acount.id" satisfies'],
    "boolean.ts": ['key: "account.id" satisfies', 'key: "full" satisfies'],
    "date.ts": ['key: "tenant.region" satisfies', 'key: "issuedAt" satisfies'],
  };
  const files: Record<string, string> = { "as-generated.ts": text };
  for (const [name, [from, to]] of Object.entries(edits)) {
    expect(text).toContain(from);
    files[name] = text.replace(from, to);
  }
  const dir = tempProject(files);
  const errors = compile(
    Object.keys(files).map((f) => join(dir, f)),
    join(dir, "tsconfig.json"),
  );
  const errorsOf = (file: string) => errors.filter((e) => e.file === join(dir, file));

  it("compiles as generated", () => {
    expect(errorsOf("as-generated.ts")).toEqual([]);
  });

  for (const [name, [, to]] of Object.entries(edits)) {
    it(`fails on the edited key only: ${to.replace(" satisfies", "")} (${name})`, () => {
      const line = files[name]!.split("\n").findIndex((l) => l.includes(to)) + 1;
      const found = errorsOf(name);
      expect(found.map((e) => e.line)).toEqual([line]);
      const key = /key: ("[^"]*")/.exec(to)![1]!;
      expect(found[0]!.message).toContain(`Type '${key}' does not satisfy the expected type`);
    });
  }
});

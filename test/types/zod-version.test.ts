import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, compile } from "./compile.js";
import { tempProject } from "./temp-project.js";

/**
 * A stand-in for zod 3's declarations, as far as the generated file meets them: `ZodType`
 * takes `<Output, Def extends ZodTypeDef, Input>`, and there is no `templateLiteral`.
 */
const ZOD3 = `export declare namespace z {
  interface ZodTypeDef { description?: string }
  class ZodType<Output = any, Def extends ZodTypeDef = ZodTypeDef, Input = Output> {
    readonly _output: Output;
    readonly _input: Input;
    readonly _def: Def;
    safeParse(data: unknown): { success: boolean };
  }
  type input<T extends ZodType<any, any, any>> = T["_input"];
  type output<T extends ZodType<any, any, any>> = T["_output"];
  function object(shape: object): ZodType;
  function string(): ZodType<string>;
}
`;

describe("a project on zod 3", () => {
  it("gets one readable error from the generated file, not one per schema", () => {
    const dir = tempProject({
      "registry.ts": readFileSync(join(ROOT, "example-app/generated/registry.ts"), "utf8"),
    });
    rmSync(join(dir, "node_modules", "zod"));
    mkdirSync(join(dir, "node_modules", "zod"));
    writeFileSync(
      join(dir, "node_modules", "zod", "package.json"),
      JSON.stringify({ name: "zod", version: "3.23.8", types: "index.d.ts" }),
    );
    writeFileSync(join(dir, "node_modules", "zod", "index.d.ts"), ZOD3);
    const file = join(dir, "registry.ts");
    const errors = compile([file], join(dir, "tsconfig.json")).filter((e) => e.file === file);
    expect(errors.map((e) => e.message)).toEqual([
      `Type '4' is not assignable to type '"repid-gen output needs zod ^4: npm install zod@^4"'.`,
    ]);
  });
});

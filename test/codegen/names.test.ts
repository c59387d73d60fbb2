import { describe, expect, it } from "vitest";
import { NameAllocator, camelCase } from "../../codegen/scan/names.js";
import { render } from "./helpers.js";

describe("names", () => {
  it("maps actor names to camelCase client properties", () => {
    expect(camelCase("send_email")).toBe("sendEmail");
    expect(camelCase("send-email")).toBe("sendEmail");
    expect(camelCase("SendEmail")).toBe("sendEmail");
    expect(camelCase("sendEmail")).toBe("sendEmail");
    expect(camelCase("HTTPFetch")).toBe("httpFetch");
    expect(camelCase("process_order_12")).toBe("processOrder12");
    expect(camelCase("42")).toBeUndefined();
    expect(camelCase("--")).toBeUndefined();
  });

  it("hands out unique type names, keeping their schema names free", () => {
    const names = new NameAllocator();
    expect(names.allocate("User")).toBe("User");
    expect(names.allocate("User")).toBe("User2");
    expect(names.allocate("UserSchema")).toBe("UserSchema2");
    expect(names.allocate("registry")).toBe("registry2");
  });
});

describe("stable type names (issue 17, 10)", () => {
  const dir = "test/codegen/fixtures/names";
  /** The emitted name of each fixture's `Item`, found by its one field. */
  async function itemNames(folders: string[]): Promise<Record<string, string>> {
    const text = await render(
      folders.map((f) => `${dir}/${f}/*.ts`),
      "test/codegen/expected/none.ts",
    );
    const names: Record<string, string> = {};
    for (const m of text.matchAll(/export interface (\w+) \{\n {2}([abc]): /g))
      names[m[2]!] = m[1]!;
    return names;
  }

  it("derives each name from its own declaration: adding a file renames no other type", async () => {
    const before = await itemNames(["a", "b"]);
    const after = await itemNames(["a", "b", "c"]);
    expect(before).toEqual({ a: "AItem", b: "BItem" });
    expect(after).toEqual({ a: "AItem", b: "BItem", c: "CItem" });
  });

  it("keeps the declared name when no other type has it", async () => {
    expect(await itemNames(["b"])).toEqual({ b: "Item" });
  });
});

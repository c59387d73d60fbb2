import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkGenerated,
  finalizeGenerated,
  isGenerated,
  writeGenerated,
} from "../../codegen/write.js";
import { CodegenError } from "../../src/core/errors.js";
import { bannerText } from "../../templates/registry-module.js";

const dir = mkdtempSync(join(tmpdir(), "repid-gen-write-"));
const source = `${bannerText("npx repid-gen")}\n\n\n   export const answer = {\nvalue: \`\${"}"}\`,\nlist: [\n1,\n],\n};\n`;

describe("write", () => {
  it("formats with prettier's defaults and stamps a digest line under the banner", async () => {
    const file = await finalizeGenerated({ path: join(dir, "a.ts"), content: source }, undefined);
    const lines = file.content.split("\n");
    expect(isGenerated(file.content)).toBe(true);
    expect(lines[1]).toMatch(/^\/\/ repid-gen digest: [0-9a-f]{16}\.[0-9a-f]{16}$/);
    expect(file.content).toContain(
      '\n\nexport const answer = {\n  value: `${"}"}`,\n  list: [1],\n};\n',
    );
  });

  it("keeps the lines of a multi-line template literal type as they are", async () => {
    const content = `${bannerText("npx repid-gen")}\nexport type Sql = \`select *\n    from t\n  where x\`;\n`;
    const file = await finalizeGenerated({ path: join(dir, "t.ts"), content }, undefined);
    expect(file.content).toContain("export type Sql = `select *\n    from t\n  where x`;\n");
  });

  it("uses the project's prettier config, and formats anew when that config changes", async () => {
    const project = mkdtempSync(join(tmpdir(), "repid-gen-prettier-"));
    mkdirSync(join(project, "src"));
    const path = join(project, "src", "registry.ts");
    writeFileSync(
      join(project, ".prettierrc.json"),
      JSON.stringify({ useTabs: true, semi: false }),
    );
    const tabbed = await finalizeGenerated({ path, content: source }, undefined);
    expect(tabbed.content).toContain(
      '\n\nexport const answer = {\n\tvalue: `${"}"}`,\n\tlist: [1],\n}\n',
    );
    writeFileSync(join(project, ".prettierrc.json"), JSON.stringify({ tabWidth: 4 }));
    const again = await finalizeGenerated({ path, content: source }, tabbed.content);
    expect(again.content).toContain(
      '\n\nexport const answer = {\n    value: `${"}"}`,\n    list: [1],\n};\n',
    );
    expect(checkGenerated(again, tabbed.content)).toBe("stale");
  });

  it("gives the same file in another folder: the digest names config files relative to it", async () => {
    const files = ["one", "two"].map((name) => {
      const project = mkdtempSync(join(tmpdir(), `repid-gen-moved-${name}-`));
      writeFileSync(join(project, ".prettierrc.json"), JSON.stringify({ semi: false }));
      return join(project, "registry.ts");
    });
    const [a, b] = await Promise.all(
      files.map((path) => finalizeGenerated({ path, content: source }, undefined)),
    );
    expect(a!.content).toBe(b!.content);
    // And the second checkout's run keeps the first's file as it is, without formatting.
    const kept = await finalizeGenerated({ path: files[1]!, content: source }, a!.content);
    expect(kept.content).toBe(a!.content);
  });

  it("--check calls a file fresh when only its digest line differs", async () => {
    const path = join(dir, "d.ts");
    const fresh = await finalizeGenerated({ path, content: source }, undefined);
    const otherDigest = fresh.content.replace(/digest: [0-9a-f]{16}/, "digest: 0000000000000000");
    expect(otherDigest).not.toBe(fresh.content);
    expect(checkGenerated(fresh, otherDigest)).toBe("fresh");
  });

  it("writes only when the text changed", async () => {
    const path = join(dir, "b.ts");
    const file = await finalizeGenerated({ path, content: source }, undefined);
    expect(await writeGenerated(file, undefined, "b.ts")).toBe("written");
    const before = statSync(path).mtimeMs;
    const current = readFileSync(path, "utf8");
    const again = await finalizeGenerated({ path, content: source }, current);
    expect(again.content).toBe(current);
    expect(await writeGenerated(again, current, "b.ts")).toBe("unchanged");
    expect(statSync(path).mtimeMs).toBe(before);
  });

  it("re-formats a generated file that was edited by hand, and --check calls it stale", async () => {
    const path = join(dir, "c.ts");
    const fresh = await finalizeGenerated({ path, content: source }, undefined);
    const edited = fresh.content.replace("list: [1]", "list: [2]");
    expect(edited).not.toBe(fresh.content);
    const regenerated = await finalizeGenerated({ path, content: source }, edited);
    expect(regenerated.content).toBe(fresh.content);
    expect(checkGenerated(regenerated, edited)).toBe("stale");
    expect(checkGenerated(regenerated, fresh.content)).toBe("fresh");
    expect(checkGenerated(regenerated, undefined)).toBe("stale");
  });

  it("refuses to overwrite a file without the generated banner", async () => {
    const path = join(dir, "handwritten.ts");
    writeFileSync(path, "export const mine = 1;\n");
    const file = await finalizeGenerated({ path, content: source }, undefined);
    const error = await writeGenerated(
      file,
      "export const mine = 1;\n",
      "src/handwritten.ts",
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodegenError);
    expect((error as CodegenError).message).toMatch(
      /^src\/handwritten\.ts:1:1: refusing to overwrite/,
    );
    expect(readFileSync(path, "utf8")).toBe("export const mine = 1;\n");
  });
});

/**
 * A tsconfig without `lib` gets TypeScript's default lib, which includes the DOM (2.3 MB of
 * declarations). repid-gen leaves the DOM out, and loads it only when an actor's types need it
 * (a type that does not resolve without it), so the output is the same either way.
 */
import { describe, expect, it } from "vitest";
import { loadProgram } from "../../codegen/scan/program.js";
import { render, ROOT } from "./helpers.js";

const DIR = "test/codegen/fixtures/dom";
const hasDom = (files: readonly { fileName: string }[]): boolean =>
  files.some((f) => /lib\.dom\.d\.ts$/.test(f.fileName));

describe("the DOM's declarations", () => {
  it("are left out when the tsconfig names no lib, and loaded when it names the DOM", () => {
    const trimmed = loadProgram({
      root: ROOT,
      tsconfig: `${DIR}/tsconfig.json`,
      actors: [`${DIR}/plain.ts`],
    });
    expect(trimmed.withoutDom).toBe(true);
    expect(hasDom(trimmed.program.getSourceFiles())).toBe(false);
    expect(
      trimmed.program.getSourceFiles().some((f) => /lib\.es2022\.d\.ts$/.test(f.fileName)),
    ).toBe(true);
    const full = loadProgram({
      root: ROOT,
      tsconfig: `${DIR}/tsconfig.json`,
      actors: [`${DIR}/plain.ts`],
      dom: true,
    });
    expect(hasDom(full.program.getSourceFiles())).toBe(true);
    const listed = loadProgram({
      root: ROOT,
      tsconfig: `${DIR}/with-dom-lib.json`,
      actors: [`${DIR}/plain.ts`],
    });
    expect(listed.withoutDom).toBe(false);
    expect(hasDom(listed.program.getSourceFiles())).toBe(true);
  });

  it("are loaded when an actor's type needs them: the output is the same as with the DOM listed", async () => {
    const output = `${DIR}/generated.ts`;
    const needed = await render([`${DIR}/scroll.ts`], output, { tsconfig: `${DIR}/tsconfig.json` });
    const listed = await render([`${DIR}/scroll.ts`], output, {
      tsconfig: `${DIR}/with-dom-lib.json`,
    });
    expect(needed).toContain("ScrollToOptions");
    expect(needed).toBe(listed);
  });
});

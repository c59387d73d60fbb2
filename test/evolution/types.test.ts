/**
 * Upcasters are typed (issue 16), checked by the real compiler in a user's project: an upcaster
 * must return the actor's arguments, and must declare the type of what it reads (its parameter
 * is `never` until it does). Each line after a `// ✗` marker must fail to compile; no other.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, compile } from "../types/compile.js";
import { tempProject } from "../types/temp-project.js";

// Imported by path: the sources as they are now, whatever a built dist/ holds.
const SOURCE = `import { Router, type Upcasters } from ${JSON.stringify(join(ROOT, "src/index.js"))};

const router = new Router();
interface Args { email: string; firstName: string }
interface V1 { email: string; name: string }

// The upcaster returns the actor's arguments from a declared older type.
router.actor(
  { name: "ok", upcast: { "9b7766a8d576": (old: V1) => ({ email: old.email, firstName: old.name }) } },
  async (args: Args) => args.firstName,
);

// Async upcasters, and a table declared apart, typed by the arguments.
const table: Upcasters<Args> = { "9b7766a8d576": async (old: V1) => ({ email: old.email, firstName: old.name }) };
router.actor({ name: "ok2", upcast: table }, async (args: Args) => args.email);

router.actor(
  // ✗ returns something that is not the actor's arguments
  { name: "bad1", upcast: { "9b7766a8d576": (old: V1) => ({ email: old.email, name: old.name }) } },
  async (args: Args) => args.firstName,
);

router.actor(
  { name: "bad2", upcast: { "9b7766a8d576": (old) =>
    // ✗ reads a parameter whose type it never declared
    ({ email: old.email, firstName: "x" }) } },
  async (args: Args) => args.firstName,
);

const wrong: Upcasters<Args> = {
  // ✗ a number is not the arguments
  "9b7766a8d576": (old: V1) => old.email.length,
};
void wrong;
`;

describe("typed upcasters (issue 16)", () => {
  it("compile errors exactly on the marked lines", () => {
    const dir = tempProject({ "upcast.ts": SOURCE });
    const file = join(dir, "upcast.ts");
    const marked = readFileSync(file, "utf8")
      .split("\n")
      .flatMap((line, i) => (line.trim().startsWith("// ✗") ? [i + 2] : []));
    const errors = compile([file], join(dir, "tsconfig.json"));
    const lines = [...new Set(errors.filter((e) => e.file === file).map((e) => e.line))].sort(
      (a, b) => a - b,
    );
    expect(marked).toHaveLength(3);
    expect(lines, errors.map((e) => `${e.line}: ${e.message}`).join("\n")).toEqual(marked);
  }, 120_000);
});

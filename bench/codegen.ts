/**
 * Times `repid-gen` end to end (process start included) over many generated actor files, each
 * with its own argument interface and an imported shared type.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;

function actorFile(i: number): string {
  return `import { Router } from "repid";
import type { Address } from "./shared.js";

export const router${i} = new Router();

export interface Args${i} {
  id: number;
  name: string;
  tags: string[];
  address?: Address;
  mode: "a" | "b" | "c";
}

router${i}.actor({ queue: "q${i % 10}" }, async function actor${i}(args: Args${i}): Promise<{ ok: boolean; n: number }> {
  return { ok: args.id > 0, n: args.tags.length };
});
`;
}

export async function codegenScenario(
  files: number,
  repeats: number,
): Promise<{ files: number; ms: number[] }> {
  const dir = mkdtempSync(join(root, "bench/.gen-"));
  try {
    mkdirSync(join(dir, "actors"));
    writeFileSync(
      join(dir, "actors/shared.ts"),
      "export interface Address { street: string; zip: string; country?: string }\n",
    );
    for (let i = 0; i < files; i++) writeFileSync(join(dir, `actors/actor-${i}.ts`), actorFile(i));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          customConditions: ["development"],
          strict: true,
          skipLibCheck: true,
          noEmit: true,
        },
        include: ["actors"],
      }),
    );
    const ms: number[] = [];
    for (let r = 0; r < repeats; r++) {
      rmSync(join(dir, "jobs.generated.ts"), { force: true });
      const t0 = performance.now();
      await run(
        join(root, "bin/repid-gen.js"),
        ["--cwd", dir, "--actors", "actors/**/*.ts", "--out", "jobs.generated.ts"],
        {
          cwd: root,
          env: { ...process.env, NODE_OPTIONS: "--conditions=development" },
        },
      );
      ms.push(Math.round(performance.now() - t0));
    }
    return { files, ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

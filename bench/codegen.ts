/** The repid-gen scenario of `npm run bench`: the real CLI over many generated actor files. */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { makeProject, timeRun } from "./codegen-project.js";

/** Times `repeats` runs that each write the registry anew (process start included). */
export async function codegenScenario(
  files: number,
  repeats: number,
): Promise<{ files: number; ms: number[] }> {
  const dir = makeProject(files);
  try {
    const ms: number[] = [];
    for (let r = 0; r < repeats; r++) {
      rmSync(join(dir, "generated"), { recursive: true, force: true });
      ms.push(Math.round(timeRun(dir)));
    }
    return { files, ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

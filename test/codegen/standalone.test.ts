import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { compile } from "../types/compile.js";
import { tempProject } from "../types/temp-project.js";
import { ROOT } from "./helpers.js";

/**
 * A producer service in another repository: a fresh folder holding only the generated file,
 * `repid` and `zod` (plus @types/node, which repid's own sources need). It must compile, and
 * run: a valid call enqueues, an invalid one throws ValidationError and enqueues nothing.
 */
function producerProject(): string {
  const dir = tempProject({
    "registry.ts": readFileSync(join(ROOT, "example-app/generated/registry.ts"), "utf8"),
  });
  writeFileSync(
    join(dir, "producer.ts"),
    `import { Connection, InMemoryMessageBroker, Queue, ValidationError } from "repid";
import { Currency, createJobs } from "./registry.js";

const connection = new Connection(new InMemoryMessageBroker());
await new Queue("payments", { connection }).declare();
const jobs = createJobs(connection);
const handle = await jobs.chargeCard.enqueue(
  { orderId: "o-1", amount: { amount: 100, currency: Currency.USD }, declines: 0 },
  { retries: 2 },
);
let rejected = "";
try {
  await jobs.chargeCard.enqueue(JSON.parse('{"orderId":"o-2","amount":{"amount":1,"currency":"GBP"},"declines":0}'));
} catch (error) {
  if (error instanceof ValidationError) rejected = error.issues.map((i) => i.path.join(".")).join(",");
}
const counts = await new Queue("payments", { connection }).counts();
console.log(JSON.stringify({ id: handle.id.length > 0, rejected, ready: counts.ready }));
await connection.disconnect();
`,
  );
  return dir;
}

describe("the generated file alone, in a fresh producer project", () => {
  const dir = producerProject();

  it("compiles with only repid and zod", () => {
    const errors = compile(
      [join(dir, "producer.ts"), join(dir, "registry.ts")],
      join(dir, "tsconfig.json"),
    );
    expect(errors).toEqual([]);
  });

  it("runs: valid args are enqueued, invalid ones throw ValidationError and send nothing", () => {
    // tsx is this checkout's tool, not a dependency of the producer: load it by path.
    const tsx = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
    const run = spawnSync(process.execPath, ["--import", tsx, join(dir, "producer.ts")], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "--conditions=repid-source" },
    });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ id: true, rejected: "amount.currency", ready: 1 });
  });
});

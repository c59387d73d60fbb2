import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

describe("example app", () => {
  it("runs producer and worker end to end on the in-memory broker and exits 0", () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: "--conditions=repid-source" };
    delete env["REDIS_URL"];
    const run = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "example-app/run.ts")], {
      cwd: ROOT,
      encoding: "utf8",
      env,
    });
    // The runtime's default logger reports the two declined charges, the dead letter and the
    // older-schema message the example provokes on purpose; nothing else may reach stderr.
    const reports = run.stderr.split("\n").filter((line) => /^\S/.test(line) && line !== "}");
    expect(
      reports.map((line) => line.replace(/job "\w+"/, "job").replace(/ \(next attempt.*$/, "")),
    ).toEqual([
      'repid: job (actor "charge_card", queue "payments", attempt 1) failed and will be retried: Error: gateway declined attempt 1 for o-1',
      'repid: job (actor "charge_card", queue "payments", attempt 2) failed and will be retried: Error: gateway declined attempt 2 for o-1',
      'repid: job (actor "process_order", queue "orders", attempt 1) was dead-lettered: [VALIDATION] ValidationError: Invalid arguments for actor "process_order":',
      // The message of send_email's first version, upcast (issue 16), and the worker's summary.
      'repid: actor "send_email" received a message of schema b850b2e4fc34 (this worker\'s is cdf9ce292069): its upcaster turned it into the current arguments; 1 message(s) of schema b850b2e4fc34 seen by this worker {',
      'repid: this worker received 1 message(s) of actor "send_email" with schema b850b2e4fc34 (its own is cdf9ce292069) {',
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("mode: one process, in-memory broker");
    expect(run.stdout).toContain("producer: rejected an invalid email before sending it (400)");
    expect(run.stdout).toMatch(
      /count_primes +-> \{"below":2000000,"count":148933,"threadId":[1-9]\d*\}/,
    );
    expect(run.stdout).toContain(
      'charge_card    -> {"orderId":"o-1","status":"captured","attempts":3}',
    );
    expect(run.stdout).toContain('"shipBy":"2024-05-02T09:30:00.000Z"');
    expect(run.stdout).toContain(
      'worker: dead-lettered a hand-written invalid message: Invalid arguments for actor "process_order"',
    );
    expect(run.stdout).toContain(
      "worker: ran a message of an older schema via its upcaster (125 bytes in the outbox)",
    );
    expect(run.stdout).toMatch(
      /worker: processed 8 \(succeeded 5, retried 2, dead-lettered 1\)\ndone\n$/,
    );
  });
});

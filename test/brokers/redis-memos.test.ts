/**
 * Redis memo keys (a call's outcome kept so that the same call sent again after a lost reply
 * answers as the first did) go once their call was answered: the next call on the queue deletes
 * them. A worker that ran thousands of jobs leaves a handful of memos, not one per call for a
 * minute (about 43 bytes of Redis memory per processed job, ~150 MB at 60,000 jobs/s).
 */
import { expect, it } from "vitest";
import { Connection } from "../../src/connection/connection.js";
import { Worker } from "../../src/worker/worker.js";
import { message } from "./contract.js";
import { brokerPerTest, describeRedis, keysWithPrefix } from "./redis-env.js";

describeRedis("redis memo keys", () => {
  const t = brokerPerTest();

  const memos = async (): Promise<string[]> =>
    (await keysWithPrefix(t.admin, t.prefix)).filter((k) => k.includes(":memo:"));

  it("a worker's answered calls leave no memo behind but the last few", async () => {
    const n = 3000;
    for (let i = 0; i < n; i += 500)
      await t.broker.enqueue(
        Array.from({ length: 500 }, (_, j) => message({ id: `m${i + j}`, topic: "noop" })),
      );
    const worker = new Worker({
      connection: new Connection(t.broker),
      concurrency: 10,
      prefetch: 0,
      messagesLimit: n,
      handleSignals: [],
    });
    let ran = 0;
    worker.actor({ queue: "default" }, async function noop() {
      ran++;
    });
    await worker.run();
    expect(ran).toBe(n);
    // At least 300 receive calls and 300 settle calls were made, 10 jobs each at most.
    const left = await memos();
    expect(left.length).toBeLessThanOrEqual(4);
    expect((await t.broker.counts("default")).running).toBe(0);
  });
});

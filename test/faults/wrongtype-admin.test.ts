/**
 * Fault: one queue's keys hold the wrong type, beside healthy queues. The admin views list every
 * queue: the healthy ones with their counts, the broken one with its problem; `repid queues`
 * prints them all and exits 5 ("bad data"), not 4 ("unreachable"). Issue 24.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Admin } from "../../src/ops/admin.js";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { Connection } from "../../src/connection/connection.js";
import { silentLogger } from "../../src/core/logger.js";
import { jobs, newPrefix, producer } from "./harness.js";
import { startRedis, type ThrowawayRedis } from "./redis-server.js";

const BIN = fileURLToPath(new URL("../../bin/repid.js", import.meta.url));

let redis: ThrowawayRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

function repid(argv: readonly string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

it(
  "lists every queue, the broken one with its problem; the CLI exits 5",
  { timeout: 120_000 },
  async () => {
    const prefix = newPrefix();
    const p = await producer(redis.url, prefix);
    for (const queue of ["alpha", "broken", "omega"]) await p.declareQueue(queue);
    await p.enqueue(jobs("alpha", "a", 3));
    await p.enqueue(jobs("omega", "o", 2));
    await redis.admin().set(`${prefix}:{broken}:ready`, "not a sorted set");

    const connection = new Connection(new RedisMessageBroker(redis.url, { prefix }), {
      logger: silentLogger,
    });
    const queues = await new Admin(connection).queues();
    await connection.disconnect();
    expect(queues.map((q) => q.name)).toEqual(["alpha", "broken", "omega"]);
    expect(queues[0]!.counts.ready).toBe(3);
    expect(queues[0]!.problem).toBeUndefined();
    expect(queues[2]!.counts.ready).toBe(2);
    expect(queues[1]!.problem).toMatch(/WRONGTYPE/);

    const cli = await repid(["queues", "--redis", redis.url, "--prefix", prefix]);
    expect(cli.code).toBe(5);
    const lines = cli.stdout.split("\n");
    expect(lines.find((l) => l.startsWith("alpha"))).toMatch(/^alpha\s+no\s+3\s/);
    expect(lines.find((l) => l.startsWith("omega"))).toMatch(/^omega\s+no\s+2\s/);
    expect(lines.find((l) => l.startsWith("broken"))).toMatch(/WRONGTYPE/);
  },
);

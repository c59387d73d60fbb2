/**
 * Redis CPU per script call, on a redis-server started for this run alone (INFO commandstats,
 * reset between phases): the shared Lua prelude alone against `return 1`, a serial enqueue, and
 * processing at concurrency 10. Run: npx tsx bench/script-cost.ts (with
 * NODE_OPTIONS=--conditions=repid-source for the sources).
 */
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { startRedis } from "../test/faults/redis-server.js";
import { makeSystem } from "./systems.js";

const redis = await startRedis();
const admin = redis.admin();

async function evalshaStats(client: Redis): Promise<{ calls: number; usPerCall: number }> {
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await client.info("commandstats"));
  const calls = Number(m?.[1] ?? 0);
  return { calls, usPerCall: calls === 0 ? 0 : Number(m![2]) / calls };
}

const dir = new URL("../src/brokers/redis/scripts/", import.meta.url);
const prelude = ["common.lua", "limits.lua"].map((f) => readFileSync(new URL(f, dir), "utf8"));
for (const [label, lua] of [
  ["the whole prelude, then return 1", `${prelude.join("\n")}\nreturn 1`],
  ["return 1", "return 1"],
] as const) {
  const sha = (await admin.script("LOAD", lua)) as string;
  await admin.config("RESETSTAT");
  for (let i = 0; i < 5_000; i++) await admin.evalsha(sha, 0);
  console.log(`${label}: ${(await evalshaStats(admin)).usPerCall.toFixed(2)} µs per call`);
}

const system = await makeSystem("repid", redis.url, "script-cost");
await system.enqueue(1_000, "serial");
await admin.config("RESETSTAT");
await system.enqueue(5_000, "serial");
const enqueue = await evalshaStats(admin);
console.log(`enqueue, one message per call: ${enqueue.usPerCall.toFixed(2)} µs per call`);
await system.process(6_000, 10);
await system.enqueue(20_000, "bulk");
await admin.config("RESETSTAT");
await system.process(20_000, 10);
const processing = await evalshaStats(admin);
console.log(
  `processing 20,000 at c=10: ${processing.calls} calls, ${processing.usPerCall.toFixed(1)} µs per call, ${((processing.calls * processing.usPerCall) / 20_000).toFixed(1)} µs per job`,
);
await system.close();
await redis.stop();
process.exit(0);

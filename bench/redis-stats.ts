/**
 * Read-only figures from the shared Redis (INFO only; nothing is reconfigured), and the clean-up
 * of this run's keys. CPU and command figures are server-wide: whatever else uses this Redis at
 * the same time counts too.
 */
import type { Redis } from "ioredis";

function field(info: string, name: string): number {
  const m = new RegExp(`^${name}:([\\d.]+)`, "m").exec(info);
  return m ? Number(m[1]) : NaN;
}

/** Redis server CPU time so far (user + system), in microseconds. */
export async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  return (field(info, "used_cpu_user") + field(info, "used_cpu_sys")) * 1e6;
}

/** Commands served so far (every command, scripts count once plus their inner calls). */
export async function redisCalls(redis: Redis): Promise<number> {
  const info = await redis.info("commandstats");
  let calls = 0;
  for (const m of info.matchAll(/calls=(\d+)/g)) calls += Number(m[1]);
  return calls;
}

/**
 * Redis used_memory once no lazily freed object is pending (UNLINK and the like free big keys in
 * a background thread, which would otherwise shrink the next figure while it is taken).
 */
export async function usedMemory(redis: Redis): Promise<number> {
  for (let i = 0; ; i++) {
    const info = await redis.info("memory");
    if (field(info, "lazyfree_pending_objects") === 0 || i === 200)
      return field(info, "used_memory");
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface CpuSample {
  readonly redisUs: number;
  readonly calls: number;
  readonly node: NodeJS.CpuUsage;
}

export async function cpuSample(redis: Redis): Promise<CpuSample> {
  const [redisUs, calls] = await Promise.all([redisCpuUs(redis), redisCalls(redis)]);
  return { redisUs, calls, node: process.cpuUsage() };
}

/**
 * Per-job costs between two samples: Redis CPU µs, Node (this process) CPU µs, and Redis
 * commands (the INFO calls of the samples themselves are left out).
 */
export function perJob(
  a: CpuSample,
  b: CpuSample,
  jobs: number,
): { redisUs: number; nodeUs: number; calls: number } {
  const node = b.node.user + b.node.system - a.node.user - a.node.system;
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    redisUs: round((b.redisUs - a.redisUs) / jobs),
    nodeUs: round(node / jobs),
    calls: round((b.calls - a.calls - 2) / jobs),
  };
}

/** Deletes every key matching `pattern` (SCAN + UNLINK); returns how many. */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}

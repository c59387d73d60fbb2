/**
 * Cost of one awaited enqueue (issue 28), on a redis-server started for this run alone: Node CPU
 * per call (process.cpuUsage), wall time, Redis time per EVALSHA (INFO commandstats) and bytes
 * received by Redis per call (total_net_input_bytes), for a bare `return 1` EVALSHA, the
 * broker's enqueue, `job.enqueue()` and bee-queue's `createJob({}).save()`. Each tree named runs in its own child process, the trees
 * alternating, ROUNDS times: `npx tsx bench/enqueue-cost.ts [other-tree ...]` compares this tree
 * with older copies (e.g. `git archive` of a commit, with a node_modules symlink).
 */
import { execFileSync } from "node:child_process";
import { startRedis } from "../test/faults/redis-server.js";

const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const trees = [...process.argv.slice(2), here];
const rounds = Number(process.env.ROUNDS ?? 3);
const redis = await startRedis();
type Row = { phase: string; cpuUs: number; wallUs: number; redisUs: number; bytes: number };
const rows = new Map<string, Row[]>();
try {
  for (let r = 0; r < rounds; r++) {
    for (const tree of trees) {
      const out = execFileSync("npx", ["tsx", `${here}/bench/enqueue-cost-child.ts`], {
        env: { ...process.env, REPID_ROOT: tree, REDIS_URL: redis.url },
        encoding: "utf8",
      });
      for (const line of out.trim().split("\n")) {
        const row = JSON.parse(line) as Row;
        const key = `${tree === here ? "this tree" : tree} ${row.phase}`;
        rows.set(key, [...(rows.get(key) ?? []), row]);
      }
    }
  }
} finally {
  await redis.stop();
}
const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]): string =>
  `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
for (const [key, rs] of rows) {
  console.log(
    `${key.padEnd(40)} cpu µs ${fmt(rs.map((r) => r.cpuUs))}  wall µs ${fmt(rs.map((r) => r.wallUs))}  redis µs ${fmt(rs.map((r) => r.redisUs))}  bytes ${fmt(rs.map((r) => r.bytes))}`,
  );
}

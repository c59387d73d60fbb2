/**
 * Failover on a real cluster (issue 13): jobs flow from producers to a worker while the master
 * holding their queue is killed (SIGKILL, by pid); its replica is promoted and everybody carries
 * on by themselves. Run twice on a throwaway six-node cluster of its own (ports 7111-7116, so the
 * shared CI cluster is never harmed): with `waitForReplicas` every job the producers saw
 * acknowledged must be processed; without it the jobs lost (acknowledged, never processed) are
 * counted. Both runs print their figures: jobs lost, time from the kill to the first job
 * processed again.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import { keySlot } from "../../src/brokers/redis/cluster.js";
import { afterAll, describe, expect, it } from "vitest";
import { Connection, Job, Repid, Worker } from "../../src/index.js";
import type { Logger } from "../../src/core/logger.js";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import type { ReplicaAcks } from "../../src/brokers/redis/replicas.js";
import { masterOfKey } from "./redis-cluster-env.js";

const BASE = 7111;
const CI = process.env.CI === "true";
const root = new URL("../../", import.meta.url).pathname;
const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0;
const url = [0, 1, 2, 3, 4, 5].map((i) => `redis://127.0.0.1:${BASE + i}`).join(",");

function script(name: string): void {
  const run = spawnSync("bash", [join(root, ".ci", name), String(BASE)], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${name} failed: ${run.stderr}`);
}

const nodeDir = (port: number): string =>
  join(process.env.TMPDIR ?? tmpdir(), `repid-redis-cluster-${BASE}`, String(port));

/** The pid of the node on `port`, from the pid file the start script told it to write. */
function pidOf(port: number): number {
  return Number(readFileSync(join(nodeDir(port), "redis.pid"), "utf8").trim());
}

/**
 * Starts a killed node again with its cluster config (as the start script did): it rejoins as a
 * replica of the node promoted in its place. Started only after the promotion: a master that
 * came back empty before it would hand its empty data set to its replica.
 */
function restart(port: number): void {
  const dir = nodeDir(port);
  const run = spawnSync("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--daemonize",
    "yes",
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    join(dir, "nodes.conf"),
    "--cluster-node-timeout",
    "2000",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--pidfile",
    join(dir, "redis.pid"),
    "--logfile",
    join(dir, "redis.log"),
  ]);
  if (run.status !== 0) throw new Error(`restarting node ${port} failed`);
}

/** The master serving `key` as a surviving node (`via`) sees it (CLUSTER SLOTS on that node). */
async function masterSeenBy(via: number, key: string): Promise<string | undefined> {
  const client = new Redis({
    port: via,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    const slot = keySlot(key);
    const slots = (await client.cluster("SLOTS")) as unknown as [
      number,
      number,
      [string, number],
    ][];
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    return range ? `${range[2][0]}:${range[2][1]}` : undefined;
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** `promise`, or undefined after `ms` (teardown must not hang the suite). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

interface Figures {
  acknowledged: number;
  processed: number;
  lost: number;
  resumeMs: number;
  promotedMs: number;
  enqueueFailures: number;
  workerStopped: boolean;
}

async function scenario(replicas: ReplicaAcks | undefined): Promise<Figures> {
  script("stop-redis-cluster.sh");
  script("start-redis-cluster.sh");
  const prefix = `failover-${replicas ? "wait" : "nowait"}`;
  const queue = "busy";
  const admin = new Cluster([{ host: "127.0.0.1", port: BASE }], { lazyConnect: true });
  admin.on("error", () => {});
  await admin.connect();
  const master = await masterOfKey(admin, `${prefix}:{${queue}}:msg`);
  admin.disconnect();
  const port = Number(master.split(":")[1]);

  const producerBroker = new RedisMessageBroker(url, {
    prefix,
    logger: quiet,
    ...(replicas ? { waitForReplicas: replicas } : {}),
  });
  const workerBroker = new RedisMessageBroker(url, { prefix, logger: quiet });
  const processed = new Map<string, number>();
  const acknowledged = new Set<string>();
  let killedAt = 0;
  let resumedAt = 0;
  let enqueueFailures = 0;

  const worker = new Worker({
    handleSignals: [],
    concurrency: 4,
    leaseTime: "5s",
    logger: quiet,
    connection: new Connection(workerBroker),
  });
  worker.actor({ queue, name: "tick" }, async function tick(args: { n: number }) {
    const id = `job-${args.n}`;
    processed.set(id, Date.now());
    if (killedAt > 0 && resumedAt === 0 && Date.now() > killedAt) {
      // The first job enqueued after the kill that gets processed.
      if (args.n > lastBeforeKill) resumedAt = Date.now();
    }
  });
  let lastBeforeKill = Infinity;

  const producer = new Repid(new Connection(producerBroker));
  await producer.magic(async () => {
    const q = new (await import("../../src/index.js")).Queue(queue);
    await q.declare();
  });
  const running = worker.run();
  let workerStopped = false;
  void running.then(
    () => (workerStopped = true),
    () => (workerStopped = true),
  );

  let next = 0;
  let stop = false;
  const produce = async (): Promise<void> => {
    while (!stop) {
      const n = next++;
      try {
        await producer.magic(() =>
          new Job("tick", { queue, id: `job-${n}`, args: { n } }).enqueue(),
        );
        acknowledged.add(`job-${n}`);
      } catch {
        enqueueFailures++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  // Sixteen producers: many writes in flight at the moment of the kill.
  const producers = Array.from({ length: 16 }, () => produce());
  const until = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await until(() => processed.size >= 300, 30_000, "300 jobs processed before the kill");
    lastBeforeKill = next;
    killedAt = Date.now();
    process.kill(pidOf(port), "SIGKILL");
    const ackedAtKill = acknowledged.size;
    // The operator's part: once the replica is promoted, the dead node is started again (it
    // becomes the new master's replica, so that WAIT can be answered again).
    const via = [0, 1, 2, 3, 4, 5].map((i) => BASE + i).find((p) => p !== port)!;
    let promotedAt = 0;
    for (let i = 0; i < 300 && promotedAt === 0; i++) {
      const now = await masterSeenBy(via, `${prefix}:{${queue}}:msg`);
      if (now !== undefined && now !== master) promotedAt = Date.now();
      else await new Promise((r) => setTimeout(r, 100));
    }
    if (promotedAt === 0) throw new Error("no replica was promoted");
    restart(port);
    await until(() => resumedAt > 0, 60_000, "a job processed after the failover");
    await until(() => acknowledged.size >= ackedAtKill + 300, 60_000, "300 more acknowledged");
    stop = true;
    await Promise.all(producers);
    // Everything acknowledged that survived is processed (at least once); wait until the queue
    // is empty and nothing more arrives.
    let last = -1;
    await until(
      () => {
        const now = processed.size;
        const settled = now === last;
        last = now;
        return settled && [...acknowledged].every((id) => processed.has(id));
      },
      30_000,
      "the acknowledged jobs",
    ).catch(() => {});
    const lost = [...acknowledged].filter((id) => !processed.has(id)).length;
    return {
      acknowledged: acknowledged.size,
      processed: processed.size,
      lost,
      resumeMs: resumedAt - killedAt,
      promotedMs: promotedAt - killedAt,
      enqueueFailures,
      workerStopped,
    };
  } finally {
    stop = true;
    await within(Promise.all(producers), 10_000);
    worker.stop();
    await within(
      running.catch(() => {}),
      10_000,
    );
    await within(producerBroker.disconnect(), 5000);
    await within(workerBroker.disconnect(), 5000);
    script("stop-redis-cluster.sh");
  }
}

const suite = hasRedisServer ? describe : CI ? describe : describe.skip;
if (!hasRedisServer && !CI) console.warn("!! SKIPPING the cluster failover test: no redis-server");

suite("redis cluster failover (own cluster on 7111-7116)", () => {
  afterAll(() => script("stop-redis-cluster.sh"));

  it(
    "with waitForReplicas: every acknowledged job is processed; the worker never stops",
    { timeout: 180_000 },
    async () => {
      if (!hasRedisServer)
        throw new Error("redis-server is needed for the failover test (CI=true)");
      const f = await scenario({ replicas: 1, timeoutMs: 2000 });
      console.log("cluster failover, waitForReplicas 1:", f);
      expect(f.workerStopped).toBe(false);
      expect(f.lost).toBe(0);
      expect(f.resumeMs).toBeGreaterThan(0);
    },
  );

  it(
    "without it: the figures of what an asynchronous-replication failover lost",
    { timeout: 180_000 },
    async () => {
      if (!hasRedisServer)
        throw new Error("redis-server is needed for the failover test (CI=true)");
      const f = await scenario(undefined);
      console.log("cluster failover, no waiting for replicas:", f);
      expect(f.workerStopped).toBe(false);
      expect(f.lost).toBeGreaterThanOrEqual(0);
      expect(f.processed).toBeGreaterThan(0);
    },
  );
});

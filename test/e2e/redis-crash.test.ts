/**
 * Worker processes on one Redis queue: SIGKILL one mid-run (every job still completes, only
 * the killed worker's in-flight jobs run twice), several at once without crashes (each job runs
 * exactly once), connections killed with CLIENT KILL mid-run (no job is lost), and a SIGKILLed
 * worker's long jobs running again elsewhere once its heartbeat expires, before its leases do.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Redis } from "ioredis";
import { afterEach, expect, it } from "vitest";
import type { OutgoingMessage } from "../../src/brokers/broker.js";
import { Connection, Queue, createClient, flow, silentLogger } from "repid";
import { waitFor } from "../brokers/contract.js";
import { flowRegistry } from "../brokers/flow-actors.js";
import { adminClient, describeRedis, REDIS_URL, testBroker } from "../brokers/redis-env.js";

const root = new URL("../..", import.meta.url).pathname;
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const c of cleanups.splice(0)) await c();
});

interface Child {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
}

async function startWorker(prefix: string, concurrency: number, jobMs: number): Promise<Child> {
  return startFixture("redis-crash-worker.ts", [prefix, String(concurrency), String(jobMs)]);
}

async function startFixture(fixture: string, args: readonly string[]): Promise<Child> {
  // node itself (with tsx's loader), not the tsx wrapper: SIGKILL must hit the worker process.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", `${root}test/e2e/fixtures/${fixture}`, REDIS_URL, ...args],
    {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: "--conditions=repid-source" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  children.push(child);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`worker exited early (${code})`)));
  });
  return { child, pid: child.pid!, exited };
}

interface Runs {
  /** job -> pids that started it */
  readonly started: Map<number, number[]>;
  /** job -> pids that finished it */
  readonly ended: Map<number, number[]>;
}

async function readRuns(admin: Redis, prefix: string): Promise<Runs> {
  const started = new Map<number, number[]>();
  const ended = new Map<number, number[]>();
  for (const entry of await admin.lrange(`${prefix}:runs`, 0, -1)) {
    const [pid, what, n] = entry.split(":");
    const map = what === "start" ? started : ended;
    const list = map.get(Number(n)) ?? [];
    list.push(Number(pid));
    map.set(Number(n), list);
  }
  return { started, ended };
}

function jobs(n: number): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `job-${i}`,
    queue: "default",
    topic: "record",
    payload: String(i),
    priority: 1,
    retries: 3,
    timeoutMs: 30_000,
  }));
}

async function setup(
  n: number,
  enqueueNow = true,
): Promise<{
  prefix: string;
  admin: Redis;
  counts: () => Promise<number>;
  enqueue: () => Promise<unknown>;
}> {
  const { broker, prefix, cleanup } = testBroker();
  const admin = adminClient();
  cleanups.push(async () => {
    await cleanup();
    admin.disconnect();
  });
  await broker.connect();
  await broker.declareQueue("default");
  const enqueue = (): Promise<unknown> => broker.enqueue(jobs(n));
  if (enqueueNow) await enqueue();
  const counts = async (): Promise<number> => {
    const c = await broker.counts("default");
    return c.ready + c.delayed + c.running;
  };
  return { prefix, admin, counts, enqueue };
}

describeRedis("redis worker processes", () => {
  it("completes every job when a worker is SIGKILLed mid-run; only its in-flight jobs run twice", async () => {
    const n = 1000;
    const concurrency = 20;
    const { prefix, admin, counts } = await setup(n);
    const doomed = await startWorker(prefix, concurrency, 20);
    await waitFor(async () => (await readRuns(admin, prefix)).started.size >= 100, 20_000);
    const survivors = [
      await startWorker(prefix, concurrency, 5),
      await startWorker(prefix, concurrency, 5),
    ];
    doomed.child.kill("SIGKILL");
    await doomed.exited;

    await waitFor(
      async () => (await counts()) === 0 && (await readRuns(admin, prefix)).ended.size === n,
      25_000,
    );
    const { started, ended } = await readRuns(admin, prefix);
    for (let i = 0; i < n; i++) expect(ended.has(i), `job ${i} finished`).toBe(true);
    const twice = [...started].filter(([, pids]) => pids.length > 1);
    for (const [job, pids] of twice) {
      expect(pids[0], `job ${job} first ran on the killed worker`).toBe(doomed.pid);
      expect(pids.slice(1).every((p) => p !== doomed.pid)).toBe(true);
      expect(pids).toHaveLength(2);
    }
    expect(twice.length).toBeLessThanOrEqual(concurrency);
    for (const s of survivors) s.child.kill("SIGTERM");
    await Promise.all(survivors.map((s) => s.exited));
  });

  it("runs each of 2,000 jobs exactly once across 3 worker processes", async () => {
    const n = 2000;
    const { prefix, admin, counts, enqueue } = await setup(n, false);
    const workers = await Promise.all([1, 2, 3].map(() => startWorker(prefix, 50, 1)));
    await enqueue();
    await waitFor(
      async () => (await counts()) === 0 && (await readRuns(admin, prefix)).ended.size === n,
      25_000,
    );
    const { started, ended } = await readRuns(admin, prefix);
    expect(started.size).toBe(n);
    for (const pids of started.values()) expect(pids).toHaveLength(1);
    for (const pids of ended.values()) expect(pids).toHaveLength(1);
    expect(new Set([...started.values()].flat()).size).toBeGreaterThan(1);
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
  });

  it("loses no job when the workers' connections are killed (CLIENT KILL) mid-run", async () => {
    const n = 1000;
    const { prefix, admin, counts } = await setup(n);
    const workers = [await startWorker(prefix, 20, 5), await startWorker(prefix, 20, 5)];
    await waitFor(async () => (await readRuns(admin, prefix)).ended.size >= 100, 20_000);
    const list = String(await admin.client("LIST"));
    const ids = list
      .split("\n")
      .filter((line) => line.includes(` name=${prefix}:`))
      .map((line) => /\bid=(\d+)/.exec(line)![1]!);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await admin.client("KILL", "ID", id).catch(() => 0);

    await waitFor(
      async () => (await counts()) === 0 && (await readRuns(admin, prefix)).ended.size === n,
      25_000,
    );
    const { ended } = await readRuns(admin, prefix);
    for (let i = 0; i < n; i++) expect(ended.has(i), `job ${i} finished`).toBe(true);
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
  });

  it("runs a SIGKILLed worker's jobs again on another worker before their 30 s leases expire", async () => {
    const n = 5;
    const { broker, prefix, cleanup } = testBroker();
    const admin = adminClient();
    cleanups.push(async () => {
      await cleanup();
      admin.disconnect();
    });
    await broker.connect();
    await broker.declareQueue("default");
    const starts = async (): Promise<{ pid: number; n: number; at: number }[]> =>
      (await admin.lrange(`${prefix}:runs`, 0, -1)).map((entry) => {
        const [pid, , job, at] = entry.split(":");
        return { pid: Number(pid), n: Number(job), at: Number(at) };
      });
    const victim = await startFixture("redis-recovery-worker.ts", [prefix, "600000"]);
    await broker.enqueue(
      Array.from({ length: n }, (_, i) => ({
        id: `long-${i}`,
        queue: "default",
        topic: "hold",
        payload: String(i),
        priority: 1 as const,
        retries: 0,
        timeoutMs: 3_600_000,
      })),
    );
    await waitFor(async () => (await starts()).length === n, 20_000);
    const survivor = await startFixture("redis-recovery-worker.ts", [prefix, "10"]);
    // The victim's lease deadlines, in Redis time (scores are in queue time: plus the credit).
    const credit = Number((await admin.hget(`${prefix}:{default}:clock`, "credit")) ?? 0);
    const deadlines = (await admin.zrange(`${prefix}:{default}:running`, "0", "-1", "WITHSCORES"))
      .filter((_, i) => i % 2 === 1)
      .map((score) => Number(score) + credit);
    expect(deadlines).toHaveLength(n);
    const [s, us] = await admin.time();
    const killedAt = Number(s) * 1000 + Math.floor(Number(us) / 1000);
    victim.child.kill("SIGKILL");
    await victim.exited;
    await waitFor(
      async () => (await starts()).filter((r) => r.pid === survivor.pid).length === n,
      40_000,
    );
    const again = (await starts()).filter((r) => r.pid === survivor.pid);
    const recoveryMs = Math.max(...again.map((r) => r.at)) - killedAt;
    const leaseLeftMs = Math.min(...deadlines) - killedAt;
    console.log("crash recovery:", { jobs: n, recoveryMs, leaseLeftAtKillMs: leaseLeftMs });
    expect(new Set(again.map((r) => r.n)).size).toBe(n);
    // Every job ran again while the killed worker's leases still had time left.
    for (const r of again) expect(r.at).toBeLessThan(Math.min(...deadlines));
    survivor.child.kill("SIGTERM");
    await survivor.exited;
  });
});

describeRedis("redis worker processes with limits", () => {
  it("a SIGKILLed worker's limit slots come back: the next worker runs every job, never more than the limit at once", async () => {
    const { broker, prefix, cleanup } = testBroker();
    const admin = adminClient();
    cleanups.push(async () => {
      await cleanup();
      admin.disconnect();
    });
    await broker.connect();
    await broker.declareQueue("default");
    const job = (n: number): OutgoingMessage => ({
      id: `job-${n}`,
      queue: "default",
      topic: "limited",
      payload: JSON.stringify({ n, key: "a" }),
      priority: 1,
      retries: 3,
      timeoutMs: 120_000,
    });
    // The first worker takes both slots of key "a" with jobs that would run for a minute.
    const doomed = await startFixture("redis-limited-worker.ts", [prefix, "60000"]);
    await broker.enqueue(Array.from({ length: 6 }, (_, n) => job(n)));
    await waitFor(async () => (await admin.llen(`${prefix}:runs`)) === 2);
    expect(await broker.counts("default")).toMatchObject({ running: 2, limited: 4 });
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    const t0 = Date.now();
    // The next worker gets the slots back once the dead one's heartbeat expires (not its
    // 30 s leases), and runs all six, two at a time.
    const next = await startFixture("redis-limited-worker.ts", [prefix, "50"]);
    await waitFor(async () => {
      const runs = await readRuns(admin, prefix);
      return [...Array(6).keys()].every((n) => runs.ended.get(n)?.includes(next.pid));
    }, 20_000);
    console.log(`limit slots of a SIGKILLed worker came back after ${Date.now() - t0} ms`);
    const log = await admin.lrange(`${prefix}:runs`, 0, -1);
    let running = 0;
    let most = 0;
    for (const entry of log.filter((e) => e.startsWith(`${next.pid}:`))) {
      running += entry.includes(":start:") ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(2);
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
  });
});

describeRedis("redis worker processes running flows", () => {
  it("a worker SIGKILLed mid-flow: a new worker completes it, the killed step runs again, the next ones once", async () => {
    const { broker, prefix, cleanup } = testBroker();
    const admin = adminClient();
    cleanups.push(async () => {
      await cleanup();
      admin.disconnect();
    });
    const connection = new Connection(broker, { logger: silentLogger });
    await new Queue("default", { connection }).declare();
    await new Queue("other", { connection }).declare();
    const jobs = createClient(flowRegistry, connection);
    const doomed = await startFixture("redis-flow-worker.ts", [prefix, "60000"]);
    const handles = await Promise.all(
      ["a", "b", "c"].map((url) =>
        flow(jobs.fetchPage.with({ url }))
          .then(jobs.parsePage)
          .then(jobs.storeRows)
          .enqueue({ connection }),
      ),
    );
    // The three flows are in their second step, on the worker that is about to die.
    const started = (): Promise<string[]> => admin.lrange(`${prefix}:runs`, 0, -1);
    await waitFor(
      async () => (await started()).filter((e) => e.endsWith(":start:parse_page")).length === 3,
    );
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    const next = await startFixture("redis-flow-worker.ts", [prefix, "10"]);
    const results = await Promise.all(handles.map((h) => h.result({ timeout: "30s" })));
    expect(results).toEqual([2, 2, 2]);
    const log = await started();
    const count = (entry: string): number => log.filter((e) => e === entry).length;
    // Each flow's first step ran once (on the killed worker), its second twice (killed, then
    // again), its third once: one completion of the second step, one third step.
    expect(count(`${doomed.pid}:end:fetch_page`)).toBe(3);
    expect(count(`${doomed.pid}:start:parse_page`)).toBe(3);
    expect(count(`${doomed.pid}:end:parse_page`)).toBe(0);
    expect(count(`${next.pid}:end:parse_page`)).toBe(3);
    expect(count(`${next.pid}:end:store_rows`)).toBe(3);
    expect(log.filter((e) => e.endsWith(":start:store_rows"))).toHaveLength(3);
  });
});

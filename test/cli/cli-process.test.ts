/**
 * `repid` as operators run it: a child process (bin/repid.js) against a real Redis, each run
 * under a fresh key prefix and unique queue names, deleted afterwards. Redis is never
 * reconfigured or flushed.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import {
  Admin,
  Connection,
  Job,
  Repid,
  Worker,
  silentLogger,
  type ActorContext,
} from "../../src/index.js";
import { REDIS_URL, describeRedis, testBroker } from "../brokers/redis-env.js";
import { waitFor } from "../brokers/contract.js";
import { FLOW_HEADER } from "../../src/core/flow-plan.js";
import { bury, outgoing } from "./helpers.js";

// Each run starts a node process through tsx; on a busy machine a few of them take a while.
vi.setConfig({ testTimeout: 120_000 });

const BIN = fileURLToPath(new URL("../../bin/repid.js", import.meta.url));
const REGISTRY = fileURLToPath(new URL("./fixtures/registry.ts", import.meta.url));

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/repid.js ...argv` to its end. */
function repid(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment without a broker's URL (CI exports both REDIS_URL and POSTGRES_URL). */
const withoutRedisUrl = (): NodeJS.ProcessEnv => {
  const { REDIS_URL: _redis, POSTGRES_URL: _postgres, ...env } = process.env;
  return env;
};

describe("repid as a process, before any broker", () => {
  it("exits 2 without a Redis URL, 4 when Redis does not answer", async () => {
    const none = await repid(["queues"], withoutRedisUrl());
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      "no broker: pass --redis <url> or --postgres <url>, or set REDIS_URL or POSTGRES_URL",
    );
    const down = await repid(["queues", "--redis", "redis://127.0.0.1:1"]);
    expect(down.code).toBe(4);
    expect(down.stderr).toContain("repid: cannot reach the broker:");
  });

  it("refuses to serve the dashboard beyond loopback without a token (exit 2)", async () => {
    const run = await repid(["dashboard", "--host", "127.0.0.2", "--port", "0"], withoutRedisUrl());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("binding 127.0.0.2 makes the dashboard reachable beyond loopback");
  });
});

describeRedis("repid as a process on Redis", () => {
  let broker: RedisMessageBroker;
  let cleanup: () => Promise<void>;
  let connection: Connection;
  let admin: Admin;
  let flags: string[];
  let emails: string;
  let reports: string;

  beforeEach(async () => {
    const made = testBroker();
    broker = made.broker;
    cleanup = made.cleanup;
    flags = ["--redis", REDIS_URL, "--prefix", made.prefix];
    connection = new Connection(broker, { logger: silentLogger });
    admin = new Admin(connection);
    await connection.connect();
    const unique = randomUUID().slice(0, 8);
    emails = `emails-${unique}`;
    reports = `reports-${unique}`;
    await broker.declareQueue(emails);
    await broker.declareQueue(reports);
  });

  afterEach(async () => {
    await broker.deleteQueue(emails);
    await broker.deleteQueue(reports);
    await cleanup();
  });

  it("lists queues and jobs, shows a dead letter, replays and purges dead letters", async () => {
    await bury(broker, emails, ["d1", "d2", "d3"]);
    await broker.enqueue([outgoing(reports, "r1")]);
    const queues = await repid(["queues", "--json", ...flags]);
    expect(queues.code).toBe(0);
    expect(JSON.parse(queues.stdout)).toEqual([
      { name: emails, paused: false, counts: { ready: 0, delayed: 0, running: 0, dead: 3 } },
      { name: reports, paused: false, counts: { ready: 1, delayed: 0, running: 0, dead: 0 } },
    ]);
    const dead = await repid(["jobs", emails, "--state", "dead", ...flags]);
    expect(dead.code).toBe(0);
    expect(
      dead.stdout
        .split("\n")
        .slice(1, 4)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(["d1", "d2", "d3"]);
    const job = await repid(["job", "d2", "--queue", emails, ...flags]);
    expect(job.code).toBe(0);
    expect(job.stdout).toMatch(/^error:\s+\[SMTP_550\] SmtpError: mailbox d2 unavailable$/m);
    expect(job.stdout).toContain("at send (mailer.ts:12:7)");
    expect((await repid(["job", "nobody", ...flags])).code).toBe(1);
    const replay = await repid(["replay", emails, "--id", "d1", ...flags]);
    expect(replay).toMatchObject({ code: 0, stdout: `replayed 1 dead letter of ${emails}\n` });
    expect(await admin.job("d1", emails)).toMatchObject({
      state: "ready",
      message: { attempt: 1 },
    });
    const purge = await repid(["delete-dead", emails, "--all", "--json", ...flags]);
    expect(JSON.parse(purge.stdout)).toEqual({ queue: emails, deleted: 2 });
    expect(await broker.counts(emails)).toMatchObject({ ready: 1, dead: 0 });
  });

  it("pauses and resumes; cancels a waiting job; exits 1 for what is not there", async () => {
    await broker.enqueue([outgoing(emails, "waits")]);
    expect((await repid(["pause", emails, ...flags])).stdout).toBe(`paused ${emails}\n`);
    expect((await admin.queues()).find((q) => q.name === emails)?.paused).toBe(true);
    expect((await repid(["resume", emails, ...flags])).code).toBe(0);
    expect((await admin.queues()).find((q) => q.name === emails)?.paused).toBe(false);
    const cancel = await repid(["cancel", emails, "waits", ...flags]);
    expect(cancel).toMatchObject({ code: 0, stdout: "removed waits (it was waiting)\n" });
    expect(await broker.counts(emails)).toMatchObject({ ready: 0 });
    expect((await repid(["cancel", emails, "waits", ...flags])).code).toBe(1);
  });

  it("cancels a job running in another process's worker: its ctx.signal aborts, it ends dead-lettered CANCELLED", async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let reason: unknown;
    const worker = new Worker({ leaseTime: "3s", handleSignals: [] });
    worker.actor({ queue: emails }, async function long_task(_args: unknown, ctx: ActorContext) {
      started();
      reason = await new Promise((resolve) =>
        ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason)),
      );
      throw reason;
    });
    const app = new Repid(connection);
    const done = app.magic(async () => {
      await new Job("long_task", { id: "long-1", queue: emails, retries: 3 }).enqueue();
      return worker.run();
    });
    await running;
    const cancel = await repid(["cancel", emails, "long-1", ...flags]);
    expect(cancel).toMatchObject({
      code: 0,
      stdout: "cancelling long-1: its worker aborts it and it ends dead-lettered as CANCELLED\n",
    });
    await waitFor(async () => (await admin.job("long-1", emails))?.state === "dead");
    const dead = await admin.job("long-1", emails);
    worker.stop();
    await done;
    expect((reason as Error).name).toBe("JobCancelledError");
    expect(dead).toMatchObject({
      state: "dead",
      error: { code: "CANCELLED" },
      message: { attempt: 1 },
    });
  });

  it("repid job shows the progress a running flow step reported in another process's worker, and its place in the flow", async () => {
    let started!: () => void;
    const reported = new Promise<void>((resolve) => (started = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const worker = new Worker({ messagesLimit: 1, handleSignals: [], logger: silentLogger });
    worker.actor({ queue: emails }, async function crunch(_args: unknown, ctx: ActorContext) {
      await ctx.progress({ done: 2, total: 5 });
      started();
      await gate;
    });
    // The last step of a flow "fl", as a worker enqueues it after the step before.
    const header = { f: "fl", i: 1, k: 60_000, next: [] };
    await broker.enqueue([
      outgoing(emails, "fl~1", {
        topic: "crunch",
        headers: { [FLOW_HEADER]: JSON.stringify(header) },
      }),
    ]);
    const done = new Repid(connection).magic(() => worker.run());
    await reported;
    const job = await repid(["job", "fl~1", ...flags]);
    open();
    await done;
    expect(job.code).toBe(0);
    expect(job.stdout).toMatch(/^state:\s+running$/m);
    expect(job.stdout).toMatch(/^progress:\s+\{"done":2,"total":5\}$/m);
    expect(job.stdout).toMatch(/^flow:\s+fl step 1$/m);
  });

  it("enqueues what the registry's schema accepts (exit 0) and rejects the rest (exit 3)", async () => {
    const args = JSON.stringify({ to: "ada@example.com", subject: "hi" });
    const ok = await repid([
      "enqueue",
      "send_email",
      "--args",
      args,
      "--queue",
      emails,
      "--registry",
      REGISTRY,
      "--json",
      ...flags,
    ]);
    expect(ok.code).toBe(0);
    const { id } = JSON.parse(ok.stdout) as { id: string };
    expect(await admin.job(id, emails)).toMatchObject({
      state: "ready",
      message: { payload: args },
    });
    const bad = await repid([
      "enqueue",
      "send_email",
      "--args",
      '{"to":"ada"}',
      "--queue",
      emails,
      "--registry",
      REGISTRY,
      ...flags,
    ]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/- to: Invalid email address/);
    expect((await broker.counts(emails)).ready).toBe(1);
  });

  it("lists and removes schedules", async () => {
    await new Job("nightly_report", { id: "nightly", queue: reports, cron: "0 3 * * *" }).enqueue({
      connection,
    });
    const listed = await repid(["schedules", reports, "--json", ...flags]);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { id: "nightly", queue: reports, topic: "nightly_report", schedule: { cron: "0 3 * * *" } },
    ]);
    expect((await repid(["remove-schedule", reports, "nightly", ...flags])).code).toBe(0);
    expect(await admin.schedules(reports)).toEqual([]);
    expect((await repid(["remove-schedule", reports, "nightly", ...flags])).code).toBe(1);
  });

  it("serves the dashboard beyond loopback with a token, refusing requests without it; SIGTERM stops it", async () => {
    await broker.enqueue([outgoing(emails, "e1")]);
    const child = spawn(
      process.execPath,
      [BIN, "dashboard", "--host", "127.0.0.2", "--port", "0", ...flags],
      {
        env: { ...process.env, REPID_DASHBOARD_TOKEN: "s3cret" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const found = /on (http:\/\/\S+\/)/.exec(out)?.[1];
        if (found) resolve(found);
      });
      child.on("close", () => reject(new Error(`dashboard exited: ${out}`)));
    });
    try {
      expect((await fetch(`${url}api/queues`)).status).toBe(401);
      const ok = await fetch(`${url}api/queues`, { headers: { Authorization: "Bearer s3cret" } });
      const body = (await ok.json()) as { queues: { name: string; counts: { ready: number } }[] };
      expect(body.queues.find((q) => q.name === emails)?.counts.ready).toBe(1);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});

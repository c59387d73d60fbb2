/**
 * Jobs waiting for a concurrency limit (issue 26), as the `repid` commands and the dashboard's API
 * show them, on a real Redis broker under a fresh prefix: the queue's LIMITED count (and the
 * broker's `limited`/`limitedBy` in JSON), and which limit holds a waiting job.
 */
import { createServer, type Server } from "node:http";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { createDashboard, type Dashboard } from "../../src/cli/dashboard/handler.js";
import { Connection, silentLogger } from "../../src/index.js";
import { describeRedis, testBroker } from "../brokers/redis-env.js";
import { cli, holdTwo, outgoing } from "./helpers.js";

describeRedis("limited jobs in the CLI and the dashboard's API (issue 26)", () => {
  let broker: RedisMessageBroker;
  let cleanup: () => Promise<void>;
  let connection: Connection;

  beforeEach(async () => {
    const made = testBroker();
    broker = made.broker;
    cleanup = made.cleanup;
    connection = new Connection(broker, { logger: silentLogger });
    await connection.connect();
    await broker.declareQueue("crm");
    await broker.declareQueue("mail");
  });

  afterEach(async () => {
    await connection.disconnect();
    await cleanup();
  });

  it("repid queues: a LIMITED column, and limited/limitedBy in JSON as the broker gives them", async () => {
    await holdTwo(broker, "crm");
    await broker.enqueue([outgoing("mail", "m1")]);
    const run = await cli(connection, "queues");
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.split("\n")).toEqual([
      "QUEUE  PAUSED  READY  LIMITED  DELAYED  RUNNING  DEAD",
      "crm    no      0      2        0        1        0",
      "mail   no      1      0        0        0        0",
      "",
    ]);
    const json = await cli(connection, "queues", "--json");
    expect(JSON.parse(json.stdout)).toEqual([
      {
        name: "crm",
        paused: false,
        counts: { ready: 0, delayed: 0, running: 1, dead: 0, limited: 2, limitedBy: { sync: 2 } },
      },
      { name: "mail", paused: false, counts: { ready: 1, delayed: 0, running: 0, dead: 0 } },
    ]);
  });

  it("repid job: a waiting job shows the limit that holds it; a running one shows none", async () => {
    await holdTwo(broker, "crm");
    const held = await cli(connection, "job", "s2", "--queue", "crm");
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(/^state:\s+ready$/m);
    expect(held.stdout).toMatch(/^held by:\s+concurrency limit 1$/m);
    const json = JSON.parse((await cli(connection, "job", "s3", "--json")).stdout);
    expect(json).toMatchObject({
      state: "ready",
      heldBy: { limit: "concurrency", key: "", max: 1 },
    });
    const running = await cli(connection, "job", "s1");
    expect(running.stdout).toMatch(/^state:\s+running$/m);
    expect(running.stdout).not.toContain("held by");
  });

  it("repid job: a limit per key names the key", async () => {
    await broker.declareLimits!("crm", "sync", { concurrency: { limit: 2, key: "account" } });
    const args = JSON.stringify({ account: "acc-1" });
    await broker.enqueue(
      ["k1", "k2", "k3"].map((id) => outgoing("crm", id, { topic: "sync", payload: args })),
    );
    const taken = await broker.receive(["crm"], { max: 10, leaseMs: 60_000 });
    expect(taken.map((d) => d.message.id)).toEqual(["k1", "k2"]);
    const held = await cli(connection, "job", "k3", "--queue", "crm");
    expect(held.stdout).toMatch(/^held by:\s+concurrency limit 2 for key "acc-1"$/m);
  });

  it("repid job: a rate limit says so, with its key", async () => {
    await broker.declareLimits!("crm", "sync", {
      rateLimit: { limit: 1, perMs: 3_600_000, key: "account" },
    });
    const args = JSON.stringify({ account: "acc-9" });
    await broker.enqueue(
      ["t1", "t2"].map((id) => outgoing("crm", id, { topic: "sync", payload: args })),
    );
    const taken = await broker.receive(["crm"], { max: 10, leaseMs: 60_000 });
    expect(taken.map((d) => d.message.id)).toEqual(["t1"]);
    const held = await cli(connection, "job", "t2", "--queue", "crm");
    expect(held.stdout).toMatch(/^held by:\s+rate limit 1 per window for key "acc-9"$/m);
    expect((await cli(connection, "queues")).stdout).toMatch(/^crm\s+no\s+0\s+1\s+0\s+1\s+0$/m);
  });

  it("the dashboard's API gives the counts and the job's heldBy", async () => {
    await holdTwo(broker, "crm");
    const dashboard: Dashboard = createDashboard({ connection });
    try {
      const { server, base } = await listen(dashboard);
      try {
        const queues = (await (await fetch(`${base}/api/queues`)).json()) as {
          queues: { name: string; counts: Record<string, unknown> }[];
        };
        expect(queues.queues.find((q) => q.name === "crm")?.counts).toEqual({
          ready: 0,
          delayed: 0,
          running: 1,
          dead: 0,
          limited: 2,
          limitedBy: { sync: 2 },
        });
        const job = await (await fetch(`${base}/api/jobs/s2?queue=crm`)).json();
        expect(job).toMatchObject({
          state: "ready",
          heldBy: { limit: "concurrency", key: "", max: 1 },
        });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    } finally {
      dashboard.close();
    }
  });
});

/** Serves `dashboard` on a free loopback port. */
async function listen(dashboard: Dashboard): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    void dashboard.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { server, base: `http://127.0.0.1:${port}` };
}

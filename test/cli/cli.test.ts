/**
 * The `repid` commands run in-process (`runCli`) on the in-memory broker: what each prints, in
 * tables and as JSON, and its exit code. cli-process.test.ts runs them as a process on Redis.
 */
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Admin,
  Connection,
  InMemoryMessageBroker,
  Job,
  Repid,
  Router,
  Worker,
  createClient,
  flow,
  silentLogger,
} from "../../src/index.js";
import { flowRegistry } from "../brokers/flow-actors.js";
import { bury, cli, outgoing, take } from "./helpers.js";

const registry = fileURLToPath(new URL("./fixtures/registry.ts", import.meta.url));

let broker: InMemoryMessageBroker;
let connection: Connection;
let admin: Admin;

beforeEach(async () => {
  broker = new InMemoryMessageBroker();
  connection = new Connection(broker, { logger: silentLogger });
  admin = new Admin(connection);
  await connection.connect();
  await broker.declareQueue("emails");
  await broker.declareQueue("reports");
});

afterEach(() => connection.disconnect());

describe("repid queues", () => {
  it("prints each queue's counts and pause flag, as a table or JSON", async () => {
    await broker.enqueue([outgoing("emails", "a"), outgoing("emails", "b")]);
    await bury(broker, "reports", ["r1"]);
    await admin.pause("reports");
    const run = await cli(connection, "queues");
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.split("\n")).toEqual([
      "QUEUE    PAUSED  READY  LIMITED  DELAYED  RUNNING  DEAD",
      "emails   no      2      0        0        0        0",
      "reports  yes     0      0        0        0        1",
      "",
    ]);
    const json = await cli(connection, "queues", "--json");
    expect(JSON.parse(json.stdout)).toEqual(await admin.queues());
  });
});

describe("repid jobs", () => {
  it("lists one state a page at a time, dead letters with their error", async () => {
    await bury(broker, "emails", ["d1", "d2", "d3"]);
    const first = await cli(connection, "jobs", "emails", "--state", "dead", "--limit", "2");
    expect(first.code).toBe(0);
    const lines = first.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+ACTOR\s+STATE\s+ATTEMPT\s+ENQUEUED\s+AT\s+ERROR$/);
    expect(lines.slice(1, 3).map((l) => l.split(/\s+/)[0])).toEqual(["d1", "d2"]);
    expect(lines[1]).toContain("SMTP_550 SmtpError: mailbox d1 unavailable");
    const cursor = /^next page: --cursor (\S+)$/.exec(lines[3]!)?.[1];
    expect(cursor).toBeDefined();
    const second = await cli(
      connection,
      "jobs",
      "emails",
      "--state=dead",
      "--cursor",
      cursor!,
      "--json",
    );
    const page = JSON.parse(second.stdout);
    expect(page.items.map((j: { message: { id: string } }) => j.message.id)).toEqual(["d3"]);
    expect(page.next).toBeUndefined();
  });

  it("refuses a missing or unknown state and a bad limit with exit code 2", async () => {
    const missing = await cli(connection, "jobs", "emails");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--state <state>' not specified");
    const wrong = await cli(connection, "jobs", "emails", "--state", "done");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("Allowed choices are ready, delayed, running, dead");
    expect((await cli(connection, "jobs", "emails", "--state", "ready", "--limit", "0")).code).toBe(
      2,
    );
  });

  it("fails with exit code 1 on an undeclared queue", async () => {
    const run = await cli(connection, "jobs", "nowhere", "--state", "ready");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Queue "nowhere" is not declared');
  });
});

describe("repid job", () => {
  it("shows a job in any queue with its error and stack; unknown ids exit 1", async () => {
    await bury(broker, "reports", ["gone"]);
    const run = await cli(connection, "job", "gone");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^id:\s+gone$/m);
    expect(run.stdout).toMatch(/^queue:\s+reports$/m);
    expect(run.stdout).toMatch(/^state:\s+dead$/m);
    expect(run.stdout).toMatch(/^attempt:\s+1 of 1$/m);
    expect(run.stdout).toMatch(/^error:\s+\[SMTP_550\] SmtpError: mailbox gone unavailable$/m);
    expect(run.stdout).toContain("    at send (mailer.ts:12:7)");
    const json = JSON.parse(
      (await cli(connection, "job", "gone", "--queue", "reports", "--json")).stdout,
    );
    expect(json).toMatchObject({ state: "dead", message: { id: "gone", queue: "reports" } });
    expect(await cli(connection, "job", "gone", "--queue", "emails")).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'repid: job "gone" not found: it is not waiting, delayed, running or dead, and no result of it is stored (a result is kept for its job\'s storeResult time, then it expires)\n',
    });
  });

  it("shows a finished job's stored result, though its message is gone (issue 24)", async () => {
    const router = new Router();
    router.actor({ name: "answer", queue: "reports", storeResult: true }, async () => ({ n: 42 }));
    const app = new Repid(connection);
    const handle = await app.magic(() =>
      new Job("answer", { queue: "reports", storeResult: true }).enqueue(),
    );
    await app.magic(() =>
      new Worker({ routers: [router], messagesLimit: 1, logger: silentLogger }).run(),
    );
    expect(await admin.job(handle.id)).toBeUndefined();
    const run = await cli(connection, "job", handle.id);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^state:\s+finished /m);
    expect(run.stdout).toMatch(/^result:\s+ok \{"n":42\}$/m);
    const json = JSON.parse((await cli(connection, "job", handle.id, "--json")).stdout);
    expect(json).toMatchObject({ id: handle.id, state: "finished", result: { ok: true } });
  });
});

describe("repid job on flows and progress", () => {
  it("shows a running job's last progress, and a flow step's flow and stage", async () => {
    await broker.declareQueue("default");
    await broker.declareQueue("other");
    const jobs = createClient(flowRegistry, connection);
    const zip = await flow
      .all([jobs.resize.with({ width: 1 }), jobs.resize.with({ width: 2 })])
      .then(jobs.zipFiles)
      .enqueue({ connection, id: "f1" });
    expect(zip.id).toBe("f1");
    const [first] = await take(broker, "default", 1);
    expect(first!.message.id).toBe("f1~0.0");
    // What ctx.progress({ done: 2, total: 5 }) publishes.
    const update = {
      state: "running",
      attempt: 1,
      progress: '{"done":2,"total":5}',
      at: 1,
    } as const;
    await broker.publishUpdate("default", "f1~0.0", update, 60_000);

    const running = await cli(connection, "job", "f1~0.0");
    expect(running.code).toBe(0);
    expect(running.stdout).toMatch(/^state:\s+running$/m);
    expect(running.stdout).toMatch(/^progress:\s+\{"done":2,"total":5\}$/m);
    expect(running.stdout).toMatch(/^flow:\s+f1 step 0\.0$/m);
    expect(running.stdout).toMatch(
      /^steps:\s+0\.0 resize running, 0\.1 resize ready, 1 zip_files pending$/m,
    );
    const json = JSON.parse((await cli(connection, "job", "f1~0.0", "--json")).stdout);
    expect(json).toMatchObject({
      progress: { done: 2, total: 5 },
      flow: { id: "f1", stage: 0, branch: 0 },
    });

    // A branch that ended (its result kept for the join) reads succeeded from its sibling.
    await broker.storeResult("f1~0.0", {
      stored: { ok: true, value: '"a.png"', finishedAt: 1 },
      ttlMs: 60_000,
    });
    await broker.settle([{ kind: "ack", delivery: first! }]);
    // A waiting branch has no progress yet; a job of no flow shows neither line.
    const waiting = await cli(connection, "job", "f1~0.1", "--queue", "default");
    expect(waiting.stdout).toMatch(
      /^steps:\s+0\.0 resize succeeded, 0\.1 resize ready, 1 zip_files pending$/m,
    );
    expect(waiting.stdout).toMatch(/^flow:\s+f1 step 0\.1$/m);
    expect(waiting.stdout).not.toMatch(/^progress:/m);
    await broker.enqueue([outgoing("emails", "plain")]);
    const plain = await cli(connection, "job", "plain");
    expect(plain.stdout).not.toMatch(/^(flow|progress):/m);
    expect(JSON.parse((await cli(connection, "job", "plain", "--json")).stdout)).not.toHaveProperty(
      "flow",
    );
  });

  it("shows a chain step's stage without a branch", async () => {
    await broker.declareQueue("default");
    await broker.declareQueue("other");
    const jobs = createClient(flowRegistry, connection);
    await flow(jobs.fetchPage.with({ url: "one" }))
      .then(jobs.parsePage)
      .enqueue({ connection, id: "c1" });
    const shown = await cli(connection, "job", "c1~0");
    expect(shown.stdout).toMatch(/^flow:\s+c1 step 0$/m);
    expect(shown.stdout).toMatch(/^steps:\s+0 fetch_page ready, 1 parse_page pending$/m);
  });
});

describe("repid cancel", () => {
  it("removes a waiting job, marks a running one, and exits 1 when there is none", async () => {
    await broker.enqueue([outgoing("emails", "runs"), outgoing("emails", "waits")]);
    const [running] = await take(broker, "emails", 1);
    expect(running!.message.id).toBe("runs");
    expect(await cli(connection, "cancel", "emails", "waits")).toMatchObject({
      code: 0,
      stdout: "removed waits (it was waiting)\n",
    });
    expect(await admin.job("waits", "emails")).toBeUndefined();
    const cancel = await cli(connection, "cancel", "emails", "runs", "--ack", "--json");
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.stdout)).toEqual({
      id: "runs",
      queue: "emails",
      outcome: "cancelling",
      mode: "ack",
    });
    expect(await broker.renew([running!], 60_000)).toEqual([{ cancelled: "ack" }]);
    const shown = await cli(connection, "job", "runs");
    expect(shown.stdout).toMatch(/^state:\s+running \(cancelling\)$/m);
    const none = await cli(connection, "cancel", "emails", "nobody");
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('repid: no job "nobody" waiting or running in "emails"\n');
  });
});

describe("repid replay and delete-dead", () => {
  it("replays chosen or all dead letters to ready with attempt 1", async () => {
    await bury(broker, "emails", ["a", "b", "c"]);
    expect(await cli(connection, "replay", "emails", "--id", "b")).toMatchObject({
      code: 0,
      stdout: "replayed 1 dead letter of emails\n",
    });
    expect(await admin.job("b", "emails")).toMatchObject({
      state: "ready",
      message: { attempt: 1 },
    });
    const partly = await cli(connection, "replay", "emails", "--id", "a", "nobody");
    expect(partly.code).toBe(1);
    expect(partly.stderr).toContain("1 of the given ids were not dead letters");
    const all = await cli(connection, "replay", "emails", "--all", "--json");
    expect(JSON.parse(all.stdout)).toEqual({ queue: "emails", replayed: 1 });
    expect((await broker.counts("emails")).ready).toBe(3);
  });

  it("asks for --id or --all (exit 2), for replay and delete-dead alike (issue 24)", async () => {
    await bury(broker, "emails", ["kept"]);
    for (const command of ["replay", "delete-dead"]) {
      const run = await cli(connection, command, "emails");
      expect(run.code, command).toBe(2);
      expect(run.stderr).toContain("pass --id <ids...> or --all");
      expect((await cli(connection, command, "emails", "--all", "--id", "x")).code).toBe(2);
    }
    expect((await broker.counts("emails")).dead).toBe(1);
  });

  it("deletes chosen dead letters, then all of them", async () => {
    await bury(broker, "emails", ["a", "b", "c"]);
    expect(await cli(connection, "delete-dead", "emails", "--id", "a", "--id", "b")).toMatchObject({
      code: 0,
      stdout: "deleted 2 dead letters of emails\n",
    });
    expect((await cli(connection, "delete-dead", "emails", "--all")).stdout).toBe(
      "deleted 1 dead letter of emails\n",
    );
    expect((await broker.counts("emails")).dead).toBe(0);
  });
});

describe("repid pause and resume", () => {
  it("sets the queue's pause flag; an undeclared queue exits 1", async () => {
    expect(await cli(connection, "pause", "emails")).toMatchObject({
      code: 0,
      stdout: "paused emails\n",
    });
    expect((await admin.queues()).find((q) => q.name === "emails")?.paused).toBe(true);
    expect(JSON.parse((await cli(connection, "resume", "emails", "--json")).stdout)).toEqual({
      queue: "emails",
      paused: false,
    });
    expect((await admin.queues()).find((q) => q.name === "emails")?.paused).toBe(false);
    expect((await cli(connection, "pause", "nowhere")).code).toBe(1);
  });
});

describe("repid schedules and remove-schedule", () => {
  it("lists periodic jobs and removes one; an unknown one exits 1", async () => {
    await new Job("nightly_report", { id: "nightly", queue: "reports", cron: "0 3 * * *" }).enqueue(
      {
        connection,
      },
    );
    const run = await cli(connection, "schedules");
    expect(run.code).toBe(0);
    const [header, row] = run.stdout.split("\n");
    expect(header).toMatch(/^ID\s+QUEUE\s+ACTOR\s+SCHEDULE\s+NEXT RUN\s+STATE$/);
    expect(row).toMatch(
      /^nightly\s+reports\s+nightly_report\s+cron 0 3 \* \* \*\s+\S+T03:00:00\.000Z\s+delayed$/,
    );
    expect(JSON.parse((await cli(connection, "schedules", "emails", "--json")).stdout)).toEqual([]);
    expect(await cli(connection, "remove-schedule", "reports", "nightly")).toMatchObject({
      code: 0,
      stdout: "removed schedule nightly\n",
    });
    expect(await admin.schedules()).toEqual([]);
    const again = await cli(connection, "remove-schedule", "reports", "nightly");
    expect(again).toMatchObject({ code: 1, stderr: 'repid: no schedule "nightly" in "reports"\n' });
  });
});

describe("repid enqueue", () => {
  it("enqueues arguments the registry's schema accepts, on the actor's queue or another", async () => {
    const args = JSON.stringify({ to: "ada@example.com", subject: "hello" });
    const run = await cli(
      connection,
      "enqueue",
      "send_email",
      "--args",
      args,
      "--registry",
      registry,
    );
    expect(run.code).toBe(0);
    const id = /^enqueued (\S+) \(send_email on emails\)$/.exec(run.stdout.trimEnd())?.[1];
    expect(await admin.job(id!, "emails")).toMatchObject({
      state: "ready",
      message: { topic: "send_email", payload: args },
    });
    const byProperty = await cli(
      connection,
      "enqueue",
      "sendEmail",
      "--args",
      args,
      "--queue",
      "reports",
      "--registry",
      registry,
      "--json",
    );
    expect(JSON.parse(byProperty.stdout)).toMatchObject({ actor: "send_email", queue: "reports" });
    expect((await broker.counts("reports")).ready).toBe(1);
  });

  it("prints the schema's issues and exits 3 for arguments it rejects", async () => {
    const run = await cli(
      connection,
      "enqueue",
      "send_email",
      "--args",
      '{"to":"not-an-email"}',
      "--registry",
      registry,
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('Invalid arguments for actor "send_email"');
    expect(run.stderr).toMatch(/- to: Invalid email address/);
    expect(run.stderr).toMatch(/- subject: Invalid input: expected string, received undefined/);
    expect((await broker.counts("emails")).ready).toBe(0);
  });

  it("exits 2 for bad JSON, an unknown actor, a missing or wrong registry", async () => {
    const bad = await cli(
      connection,
      "enqueue",
      "send_email",
      "--args",
      "{to:",
      "--registry",
      registry,
    );
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr).toContain('Invalid option "args": not JSON');
    const unknown = await cli(connection, "enqueue", "nobody", "--registry", registry);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'no actor "nobody" in the registry (it has: nightly_report, send_email)',
    );
    expect((await cli(connection, "enqueue", "send_email", "--args", "{}")).stderr).toContain(
      "pass --registry <path> or set REPID_REGISTRY",
    );
    const missing = await cli(
      connection,
      "enqueue",
      "send_email",
      "--registry",
      "nope/registry.ts",
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot load nope/registry.ts");
  });
});

describe("repid --help", () => {
  const commands = [
    "queues",
    "jobs",
    "job",
    "cancel",
    "replay",
    "delete-dead",
    "pause",
    "resume",
    "schedules",
    "remove-schedule",
    "enqueue",
    "dashboard",
  ];

  it.each(commands)("repid %s --help prints its usage and exits 0", async (command) => {
    const run = await cli(connection, command, "--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: repid ${command} `));
  });

  it("lists every command and the exit codes; an unknown command exits 2", async () => {
    const run = await cli(connection, "--help");
    expect(run.code).toBe(0);
    for (const command of commands) expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(run.stdout).toContain("3  enqueue: the arguments do not match the actor's schema");
    const unknown = await cli(connection, "requeue");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'requeue'");
  });
});

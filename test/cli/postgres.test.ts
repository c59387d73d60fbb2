/**
 * The `repid` command on the Postgres broker: `--postgres <url>` (or `POSTGRES_URL` when no Redis
 * is named) and `--schema` pick it; the same operations as on Redis, through its admin.
 */
import { afterEach, expect, it } from "vitest";
import { runCli } from "../../src/cli/run.js";
import { message } from "../brokers/contract.js";
import { describePostgres, POSTGRES_URL, testBroker } from "../brokers/postgres-env.js";
import { holdTwo } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function cli(env: Record<string, string>, ...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  return { code, stdout, stderr };
}

describePostgres("repid on postgres", () => {
  it("lists queues and jobs, pauses and cancels through --postgres and --schema, or POSTGRES_URL", async () => {
    const { broker, schema, cleanup } = testBroker();
    cleanups.push(cleanup);
    await broker.connect();
    await broker.declareQueue("emails");
    await broker.enqueue([
      message({ id: "a", queue: "emails" }),
      message({ id: "b", queue: "emails" }),
    ]);
    const where = ["--postgres", POSTGRES_URL, "--schema", schema];

    const queues = await cli({}, "queues", "--json", ...where);
    expect(queues.code).toBe(0);
    expect(JSON.parse(queues.stdout)).toEqual([
      { name: "emails", paused: false, counts: { ready: 2, delayed: 0, running: 0, dead: 0 } },
    ]);
    expect((await cli({}, "pause", "emails", ...where)).code).toBe(0);
    expect((await cli({}, "cancel", "emails", "a", ...where)).stdout).toContain("removed a");
    // Without --postgres: POSTGRES_URL, when no Redis is named.
    const jobs = await cli(
      { POSTGRES_URL },
      "jobs",
      "emails",
      "--state",
      "ready",
      "--json",
      "--schema",
      schema,
    );
    expect(
      JSON.parse(jobs.stdout).items.map((j: { message: { id: string } }) => j.message.id),
    ).toEqual(["b"]);
    const after = JSON.parse((await cli({}, "queues", "--json", ...where)).stdout);
    expect(after[0]).toMatchObject({ name: "emails", paused: true, counts: { ready: 1 } });
  });

  it("refuses a schema that was never migrated (exit 4), creating nothing", async () => {
    const run = await cli({}, "queues", "--postgres", POSTGRES_URL, "--schema", "repid_never_made");
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("repid migrate");
  });

  it("repid queues and repid job show the jobs a limit holds", async () => {
    const { broker, schema, cleanup } = testBroker();
    cleanups.push(cleanup);
    await broker.connect();
    await broker.declareQueue("crm");
    await holdTwo(broker, "crm");
    const where = ["--postgres", POSTGRES_URL, "--schema", schema];
    const queues = await cli({}, "queues", ...where);
    expect(queues.stdout.split("\n").slice(0, 2)).toEqual([
      "QUEUE  PAUSED  READY  LIMITED  DELAYED  RUNNING  DEAD",
      "crm    no      0      2        0        1        0",
    ]);
    const held = await cli({}, "job", "s2", "--queue", "crm", ...where);
    expect(held.stdout).toMatch(/^state:\s+ready$/m);
    expect(held.stdout).toMatch(/^held by:\s+concurrency limit 1$/m);
    const running = await cli({}, "job", "s1", "--queue", "crm", ...where);
    expect(running.stdout).not.toContain("held by");
  });
});

/**
 * RabbitMQ under failure: a worker process SIGKILLed mid-run (every job still completes, on
 * another worker), and the connection closed from the server side mid-run (nothing is lost; the
 * deliveries taken on the closed connection are fenced off and come back with a stall counted).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";
import type { OutgoingMessage } from "../../src/brokers/broker.js";
import { Connection, Job, Queue, Repid, Worker, silentLogger } from "../../src/index.js";
import { waitFor } from "../brokers/contract.js";
import { describeRabbit, RABBITMQ_URL, testBroker } from "../brokers/rabbitmq-env.js";

const root = new URL("../..", import.meta.url).pathname;
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const c of cleanups.splice(0).reverse()) await c();
});

function jobs(n: number, queue = "default"): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `job-${i}`,
    queue,
    topic: "slow",
    payload: JSON.stringify(i),
    priority: 1,
    retries: 0,
    timeoutMs: 60_000,
  }));
}

/** Starts the fixture worker; `lines` collects what it prints. */
async function startWorker(prefix: string, lines: string[]): Promise<ChildProcess> {
  // node itself (with tsx's loader), not the tsx wrapper: SIGKILL must hit the worker process.
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      `${root}test/fixtures/rabbitmq-worker.ts`,
      RABBITMQ_URL,
      prefix,
      "4",
      "150",
    ],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  let buffer = "";
  child.stdout!.on("data", (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  return child;
}

/** The pid of the AMQP connection whose connection_name is `name`, from rabbitmqctl. */
async function connectionPid(name: string): Promise<string> {
  const { stdout } = await promisify(execFile)("rabbitmqctl", [
    "list_connections",
    "pid",
    "client_properties",
    "--no-table-headers",
    "--quiet",
  ]);
  const line = stdout.split("\n").find((l) => l.includes(`"${name}"`));
  if (!line) throw new Error(`no RabbitMQ connection named ${name}`);
  return line.split("\t")[0]!.trim();
}

describeRabbit("rabbitmq crashes", () => {
  it("a SIGKILLed worker's messages all complete on another worker", async () => {
    const { broker, prefix, cleanup } = testBroker();
    cleanups.push(cleanup);
    await broker.connect();
    await broker.declareQueue("default");
    const total = 24;
    await broker.enqueue(jobs(total));
    const lines: string[] = [];
    const child = await startWorker(prefix, lines);
    // Killed with jobs in flight: some finished, some started and never finished.
    const inFlight = (): number =>
      lines.filter((l) => l.startsWith("start ")).length -
      lines.filter((l) => l.startsWith("end ")).length;
    await waitFor(
      () => lines.filter((l) => l.startsWith("end ")).length >= 4 && inFlight() > 0,
      20_000,
    );
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const endedThere = new Set(lines.filter((l) => l.startsWith("end ")).map((l) => l.slice(4)));
    const cutShort = lines
      .filter((l) => l.startsWith("start ") && !endedThere.has(l.slice(6)))
      .map((l) => l.slice(6));
    expect(cutShort.length).toBeGreaterThan(0);

    const ranHere = new Map<string, number>();
    const app = new Repid(new Connection(broker));
    const worker = new Worker({ concurrency: 8, handleSignals: [] });
    worker.actor(async function slow(n: number, ctx) {
      ranHere.set(String(n), ctx.attempt);
    });
    const run = app.magic(() => worker.run());
    await waitFor(
      () =>
        Array.from({ length: total }, (_, i) => String(i)).every(
          (n) => endedThere.has(n) || ranHere.has(n),
        ),
      20_000,
    );
    worker.stop();
    await run;
    // Every job cut short by the kill ran again here, as the same attempt (a crash is no retry).
    for (const n of cutShort) expect(ranHere.get(n)).toBe(1);
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
  });

  it("a connection closed by the server mid-run loses nothing; deliveries of the old connection are fenced off", async () => {
    const name = `repid-test-${process.pid}-${Date.now()}`;
    const { broker, cleanup } = testBroker({ connectionName: name });
    cleanups.push(cleanup);
    await broker.connect();
    await broker.declareQueue("default");
    await broker.declareQueue("side");
    // A delivery held across the cut: its settlement must not apply to the redelivered copy.
    await broker.enqueue(jobs(1, "side"));
    const [held] = await broker.receive(["side"], { max: 1, leaseMs: 60_000 });

    const done = new Map<number, number>();
    // Jobs from 10 on wait for the cut: the cut lands mid-run, with five of them in flight.
    let cutDone!: () => void;
    const cut = new Promise<void>((resolve) => (cutDone = resolve));
    const app = new Repid(new Connection(broker, { logger: silentLogger }));
    const worker = new Worker({ concurrency: 5, handleSignals: [] });
    worker.actor(async function slow(n: number) {
      if (n >= 10) await cut;
      done.set(n, (done.get(n) ?? 0) + 1);
    });
    await app.magic(async () => {
      for (let i = 0; i < 60; i++) await new Job("slow", { args: i }).enqueue();
    });
    const pid = await connectionPid(name);
    const run = app.magic(() => worker.run());
    await waitFor(() => done.size >= 10, 20_000);
    await promisify(execFile)("rabbitmqctl", ["close_connection", pid, "repid test: cut"]);
    cutDone();
    // Enqueued while the connection is down or coming back: confirmed, so never lost.
    await app.magic(async () => {
      for (let i = 60; i < 90; i++) await new Job("slow", { args: i }).enqueue();
    });
    await waitFor(() => done.size === 90, 30_000);
    worker.stop();
    await run;
    expect([...done.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 90 }, (_, i) => i));
    // The jobs in flight at the cut ran again: their deliveries died with the connection.
    expect([...done.values()].filter((runs) => runs > 1).length).toBeGreaterThanOrEqual(1);

    expect(await broker.renew([held!], 60_000)).toEqual([false]);
    expect(await broker.settle([{ kind: "ack", delivery: held! }])).toEqual([false]);
    const [again] = await broker.receive(["side"], { max: 1, leaseMs: 60_000 });
    expect(again!.message.id).toBe(held!.message.id);
    expect(again!.message.stalls).toBe(1);
    expect(await broker.settle([{ kind: "ack", delivery: again! }])).toEqual([true]);
    await app.magic(async () => {
      expect(await new Queue().counts()).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    });
  });
});

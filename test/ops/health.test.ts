/**
 * The worker's health server: `/healthz` fails while the worker's event loop is blocked (a child
 * process whose actor hogs its loop), `/readyz` fails while its Redis is down (a throwaway
 * redis-server of the test's own, killed and restarted) and comes back with it.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import {
  Connection,
  InMemoryMessageBroker,
  InvalidOptionError,
  Job,
  Repid,
  Worker,
  silentLogger,
} from "../../src/index.js";
import { RedisMessageBroker } from "../../src/redis.js";
import { waitFor } from "../helpers.js";
import { get } from "./http.js";

const fixture = new URL("./fixtures/blocking-worker.ts", import.meta.url).pathname;

/** Messages from a child, awaited by a predicate. */
function inbox(
  child: ChildProcess,
): (match: (m: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>> {
  const received: Record<string, unknown>[] = [];
  child.on("message", (m) => received.push(m as Record<string, unknown>));
  return async (match) => {
    await waitFor(() => received.some(match), 20_000);
    return received.find(match)!;
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** A redis-server of this test's own (never the shared one), without persistence. */
async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  redis.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  await waitFor(() => /Ready to accept connections/.test(out) || redis.exitCode !== null);
  if (redis.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
  return redis;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

describe("worker health server (issue 11)", () => {
  it("fails /healthz while the worker's event loop is blocked, and recovers after", async () => {
    const child = fork(fixture, [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const next = inbox(child);
    try {
      const { address } = (await next((m) => "address" in m)) as {
        address: { host: string; port: number };
      };
      const before = await get(address, "/healthz");
      expect(before.status).toBe(200);
      expect(JSON.parse(before.text)).toMatchObject({ status: "ok" });

      // Long enough that the request below lands within the block even on a busy machine.
      child.send(3000);
      await next((m) => "blocking" in m);
      // Sent while the loop is blocked: answered once it is free, with the lag it saw.
      const during = await get(address, "/healthz");
      expect(during.status).toBe(503);
      const body = JSON.parse(during.text) as Record<string, unknown>;
      expect(body).toMatchObject({ status: "event loop blocked", maxEventLoopLagMs: 200 });
      expect(body["eventLoopLagMs"]).toBeGreaterThan(200);

      await waitFor(async () => (await get(address, "/healthz")).status === 200);
      // Readiness is about the broker, which never stopped answering.
      expect((await get(address, "/readyz")).status).toBe(200);
      child.disconnect();
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code).toBe(0);
    } finally {
      await kill(child);
    }
  });

  it("fails /readyz while Redis is down, and is ready again once it is back", async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const broker = new RedisMessageBroker(`redis://127.0.0.1:${port}`, { logger: silentLogger });
    const connection = new Connection(broker, { logger: silentLogger });
    const worker = new Worker({
      connection,
      health: { port: 0, brokerTimeout: "300ms" },
      handleSignals: [],
    });
    worker.actor(async function noop() {});
    const running = worker.run();
    try {
      await waitFor(() => worker.healthAddress !== undefined);
      const address = worker.healthAddress;
      await waitFor(async () => (await get(address, "/readyz")).status === 200);

      await kill(redis);
      let down = await get(address, "/readyz");
      await waitFor(async () => (down = await get(address, "/readyz")).status === 503);
      expect(JSON.parse(down.text)).toMatchObject({
        status: "not ready",
        reason: expect.stringMatching(/broker/),
      });
      // Alive all the same: a restart would not help, so liveness stays green.
      expect((await get(address, "/healthz")).status).toBe(200);

      redis = await startRedis(port);
      await waitFor(async () => (await get(address, "/readyz")).status === 200, 20_000);
      expect(JSON.parse((await get(address, "/readyz")).text)).toEqual({ status: "ready" });
      worker.stop();
      await running;
      expect(worker.healthAddress).toBeUndefined();
    } finally {
      worker.stop();
      await running.catch(() => {});
      await connection.disconnect().catch(() => {});
      await kill(redis);
    }
  });

  it("fails /readyz while receiving fails, and is ready again once a receive goes out fine", async () => {
    const broker = new InMemoryMessageBroker();
    const app = new Repid(new Connection(broker, { logger: silentLogger }));
    let failing = false;
    const receive = broker.receive.bind(broker);
    broker.receive = (queues, options) =>
      failing ? Promise.reject(new Error("injected receive failure")) : receive(queues, options);
    const worker = new Worker({ health: { port: 0 }, handleSignals: [] });
    worker.actor(async function tick() {});
    const running = app.magic(() => worker.run());
    try {
      await waitFor(() => worker.healthAddress !== undefined);
      const address = worker.healthAddress;
      await waitFor(async () => (await get(address, "/readyz")).status === 200);

      failing = true;
      // The receive under way (waiting for messages) returns this job; the next one fails.
      await app.magic(() => new Job("tick").enqueue());
      let failed = await get(address, "/readyz");
      await waitFor(async () => (failed = await get(address, "/readyz")).status === 503);
      expect(JSON.parse(failed.text)).toEqual({
        status: "not ready",
        reason: "receiving messages failed: injected receive failure",
      });

      failing = false;
      // The retry (a second later) waits for messages: ready, with no message needed.
      await waitFor(async () => (await get(address, "/readyz")).status === 200);
    } finally {
      worker.stop();
      await running;
    }
  });

  it("answers 404 for unknown paths, 405 for other methods, and closes with the run", async () => {
    const app = new Repid(new Connection(new InMemoryMessageBroker(), { logger: silentLogger }));
    const worker = new Worker({ health: { port: 0 }, handleSignals: [] });
    const running = app.magic(() => worker.run());
    await waitFor(() => worker.healthAddress !== undefined);
    const address = worker.healthAddress!;
    expect(address.host).toBe("127.0.0.1");
    expect((await get(address, "/nope")).status).toBe(404);
    const posted = await fetch(`http://${address.host}:${address.port}/healthz`, {
      method: "POST",
    });
    expect(posted.status).toBe(405);
    worker.stop();
    await running;
    await expect(get(address, "/healthz")).rejects.toThrow();
  });

  it("checks its options when the worker is built, and a port in use when it runs", async () => {
    expect(() => new Worker({ health: { port: -1 } })).toThrow(InvalidOptionError);
    expect(() => new Worker({ health: { port: 0, hots: "x" } as never })).toThrow(/unknown option/);
    expect(() => new Worker({ health: { port: 0, maxEventLoopLag: "soon" as never } })).toThrow();

    const taken = createServer().listen(0, "127.0.0.1");
    await once(taken, "listening");
    try {
      const port = (taken.address() as { port: number }).port;
      const app = new Repid(new Connection(new InMemoryMessageBroker(), { logger: silentLogger }));
      const worker = new Worker({ health: { port }, handleSignals: [] });
      await expect(app.magic(() => worker.run())).rejects.toThrow(/cannot listen on 127\.0\.0\.1/);
    } finally {
      taken.close();
    }
  });
});

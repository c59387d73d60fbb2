/**
 * The keep-alive thread connects with the broker's own client options, never weaker ones (issue
 * 24): a URL password the server does not need (ioredis accepts it; the thread's heartbeats then
 * failed forever and a blocked worker's job ran again elsewhere), and TLS options that cannot
 * cross into a thread (a checkServerIdentity function: the thread connected in plain text, AUTH
 * included), which now keep the heartbeat on the main thread with a warning; and a Sentinel setup
 * (the thread heartbeated to localhost:6379 instead of the master).
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { message } from "../brokers/contract.js";
import { newPrefix } from "./harness.js";
import {
  freePort,
  recordingLogger,
  startTlsRedis,
  until,
  type ThrowawayRedis,
  type TlsRedis,
} from "./redis-server.js";

let tls: TlsRedis;
let redis: ThrowawayRedis;
let dir: string;
let tlsPort: number;
let ca: Buffer;

beforeAll(async () => {
  tls = await startTlsRedis();
  ({ redis, dir, tlsPort, ca } = tls);
});
afterAll(() => tls.stop());

/**
 * A consumer holds a message and keeps alive while its event loop is blocked for 2 s (three
 * times the heartbeat's time to live); another broker then must not get the message.
 */
async function heldThroughBlockedLoop(open: () => Promise<RedisMessageBroker>): Promise<unknown[]> {
  const broker = await open();
  const other = await open();
  try {
    await broker.declareQueue("default");
    await broker.enqueue([message({ id: "long" })]);
    const alive = broker.keepAlive("busy", ["default"], 600);
    const [held] = await broker.receive(["default"], { max: 1, leaseMs: 60_000, consumer: "busy" });
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      /* a user's synchronous loop */
    }
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const taken = await other.receive(["default"], { max: 1, leaseMs: 60_000, signal: ac.signal });
    await broker.settle([{ kind: "ack", delivery: held! }]);
    await alive.stop();
    return taken;
  } finally {
    await broker.disconnect();
    await other.disconnect();
  }
}

it("a URL password the server does not need: the thread's heartbeats hold the lease", async () => {
  const prefix = newPrefix();
  const logger = recordingLogger();
  const taken = await heldThroughBlockedLoop(async () => {
    const b = new RedisMessageBroker(`redis://:not-needed@127.0.0.1:${redis.port}`, {
      prefix,
      logger,
    });
    await b.connect();
    return b;
  });
  expect(taken).toEqual([]);
  expect(logger.lines.filter((l) => /refreshing the heartbeat/.test(l))).toEqual([]);
});

it("TLS options that cannot cross into a thread: heartbeats stay on the main thread, with a warning", async () => {
  const prefix = newPrefix();
  const logger = recordingLogger();
  const broker = new RedisMessageBroker(
    { host: "localhost", port: tlsPort, tls: { ca, checkServerIdentity: () => undefined } },
    { prefix, logger },
  );
  await broker.connect();
  try {
    await broker.declareQueue("default");
    const alive = broker.keepAlive("careful", ["default"], 600);
    expect(logger.lines.filter((l) => l.startsWith("warn"))).toEqual([
      expect.stringMatching(
        /keep-alive thread cannot use the client's option "tls\.checkServerIdentity".*main thread/,
      ),
    ]);
    // Several heartbeat intervals pass with nothing failing: no connection in plain text to the
    // TLS port (it would fail every refresh), and the record is refreshed from here.
    await until(() => logger.lines.some((l) => l.startsWith("error")), 1500).catch(() => {});
    expect(logger.lines.filter((l) => l.startsWith("error"))).toEqual([]);
    const consumers = await redis.admin().zrange(`${prefix}:{default}:consumers`, "0", "-1");
    expect(consumers).toContain("careful");
    await alive.stop();
  } finally {
    await broker.disconnect();
  }
});

it("a Sentinel setup: the thread's heartbeats go to the master Sentinel names", async () => {
  // A sentinel process on loopback watching this file's throwaway server as "repid-master".
  const port = await freePort();
  const config = join(dir, "sentinel.conf");
  writeFileSync(
    config,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor repid-master 127.0.0.1 ${redis.port} 1`,
      "sentinel down-after-milliseconds repid-master 60000",
      "",
    ].join("\n"),
  );
  const sentinel = spawn("redis-server", [config, "--sentinel"], { stdio: "ignore" });
  const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => 50 });
  probe.on("error", () => {});
  try {
    await until(
      async () => {
        try {
          if (probe.status === "wait") await probe.connect();
          const addr = (await probe.call("SENTINEL", "get-master-addr-by-name", "repid-master")) as
            string[] | null;
          return addr?.[1] === String(redis.port);
        } catch {
          return false;
        }
      },
      20_000,
      "sentinel names the master",
    );
    const prefix = newPrefix();
    const logger = recordingLogger();
    const taken = await heldThroughBlockedLoop(async () => {
      const b = new RedisMessageBroker(
        { sentinels: [{ host: "127.0.0.1", port }], name: "repid-master" },
        { prefix, logger },
      );
      await b.connect();
      return b;
    });
    expect(taken).toEqual([]);
    expect(logger.lines.filter((l) => /refreshing the heartbeat/.test(l))).toEqual([]);
  } finally {
    probe.disconnect();
    sentinel.kill("SIGKILL");
  }
});

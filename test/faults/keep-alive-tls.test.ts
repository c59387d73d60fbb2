/**
 * The keep-alive thread over TLS: a throwaway redis-server with a TLS port and a self-signed
 * certificate (made here with openssl), a broker connected with `tls: { ca }`. The thread must
 * open its own TLS connection and keep a consumer alive while the event loop is blocked, without
 * a single logged failure (its own client, not ioredis, speaks to Redis).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { message } from "../brokers/contract.js";
import { newPrefix } from "./harness.js";
import { freePort, recordingLogger, startRedis, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
let dir: string;
let tlsPort: number;
let ca: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "repid-tls-"));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
    ],
    { stdio: "ignore" },
  );
  ca = readFileSync(cert);
  tlsPort = await freePort();
  redis = await startRedis([
    "--tls-port",
    String(tlsPort),
    "--tls-cert-file",
    cert,
    "--tls-key-file",
    key,
    "--tls-ca-cert-file",
    cert,
    "--tls-auth-clients",
    "no",
  ]);
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

it("keeps a consumer alive from the thread over TLS while the event loop is blocked", async () => {
  const prefix = newPrefix();
  const logger = recordingLogger();
  const open = async (): Promise<RedisMessageBroker> => {
    const b = new RedisMessageBroker(
      { host: "localhost", port: tlsPort, tls: { ca } },
      {
        prefix,
        logger,
      },
    );
    await b.connect();
    return b;
  };
  const broker = await open();
  const other = await open();
  try {
    await broker.declareQueue("default");
    await broker.enqueue([message({ id: "long" })]);
    const alive = broker.keepAlive("busy", ["default"], 600);
    const [held] = await broker.receive(["default"], { max: 1, leaseMs: 60_000, consumer: "busy" });
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      /* a user's synchronous loop, three times the heartbeat's time to live */
    }
    const names = String(await redis.admin().client("LIST"))
      .split("\n")
      .map((line) => /\bname=(\S+)/.exec(line)?.[1] ?? "");
    expect(names).toContain(`${prefix}:keepalive`);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    expect(
      await other.receive(["default"], { max: 1, leaseMs: 60_000, signal: ac.signal }),
    ).toEqual([]);
    expect(await broker.settle([{ kind: "ack", delivery: held! }])).toEqual([true]);
    await alive.stop();
    expect(logger.lines.filter((l) => l.startsWith("error"))).toEqual([]);
  } finally {
    await broker.disconnect();
    await other.disconnect();
  }
});

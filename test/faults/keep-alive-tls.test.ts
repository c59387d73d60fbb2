/**
 * The keep-alive thread over TLS: a throwaway redis-server with a TLS port and a self-signed
 * certificate (made here with openssl), a broker connected with `tls: { ca }`. The thread must
 * open its own TLS connection and keep a consumer alive while the event loop is blocked, without
 * a single logged failure (its ioredis client is made from the broker client's options).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { message } from "../brokers/contract.js";
import { newPrefix } from "./harness.js";
import {
  recordingLogger,
  startTlsRedis,
  type ThrowawayRedis,
  type TlsRedis,
} from "./redis-server.js";

let tls: TlsRedis;
let redis: ThrowawayRedis;
let tlsPort: number;
let ca: Buffer;

beforeAll(async () => {
  tls = await startTlsRedis();
  ({ redis, tlsPort, ca } = tls);
});
afterAll(() => tls.stop());

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

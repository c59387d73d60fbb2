/**
 * Fault: a reply lost on the way back (the connection drops after Redis applied the command), so
 * that ioredis sends the command again after reconnecting. A settle, an enqueue and a receive
 * sent twice must answer as the first time did: applied, created, the same deliveries.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { cuttingProxy, type CuttingProxy } from "./cutting-proxy.js";
import { jobs, newPrefix } from "./harness.js";
import { startRedis, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
let proxy: CuttingProxy;
let broker: RedisMessageBroker;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  redis = await startRedis();
  proxy = await cuttingProxy(redis.port);
});
afterEach(async () => {
  await broker.disconnect();
});
afterAll(async () => {
  console.log("fault resend:", { ...figures, cuts: proxy.cuts });
  await proxy.close();
  await redis.stop();
});

/** `ioredisGivesUp`: ioredis fails commands in flight at once when the connection drops. */
async function open(ioredisGivesUp = false): Promise<RedisMessageBroker> {
  broker = new RedisMessageBroker(
    { host: "127.0.0.1", port: proxy.port, ...(ioredisGivesUp ? { maxRetriesPerRequest: 0 } : {}) },
    { prefix: newPrefix() },
  );
  await broker.connect();
  await broker.declareQueue("default");
  return broker;
}

const lease = { max: 1, leaseMs: 60_000 } as const;

it("a settle sent again reports the settlement applied", { timeout: 60_000 }, async () => {
  const b = await open();
  await b.enqueue(jobs("default", "record", 1));
  const [d] = await b.receive(["default"], lease);
  const before = proxy.cuts;
  proxy.arm("default-0");
  const applied = await b.settle([{ kind: "ack", delivery: d! }]);
  figures.settle = applied;
  expect(proxy.cuts).toBe(before + 1);
  expect(applied).toEqual([true]);
  expect(await b.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
});

it("an enqueue sent again reports the message created, once", { timeout: 60_000 }, async () => {
  const b = await open();
  const before = proxy.cuts;
  proxy.arm("resent-once");
  const outcomes = await b.enqueue([{ ...jobs("default", "record", 1)[0]!, id: "resent-once" }]);
  figures.enqueue = outcomes;
  expect(proxy.cuts).toBe(before + 1);
  expect(outcomes).toEqual([{ id: "resent-once", created: true }]);
  expect(await b.counts("default")).toMatchObject({ ready: 1 });
});

it(
  "an enqueue with a dedupe window sent again reports the message created, once",
  { timeout: 60_000 },
  async () => {
    const b = await open();
    const before = proxy.cuts;
    proxy.arm("resent-window");
    const message = { ...jobs("default", "record", 1)[0]!, id: "resent-window", dedupeMs: 60_000 };
    const outcomes = await b.enqueue([message]);
    figures.dedupe = outcomes;
    expect(proxy.cuts).toBe(before + 1);
    expect(outcomes).toEqual([{ id: "resent-window", created: true }]);
    expect(await b.counts("default")).toMatchObject({ ready: 1 });
    // The window is this message's: another enqueue of the id creates nothing.
    expect(await b.enqueue([{ ...message }])).toEqual([{ id: "resent-window", created: false }]);
  },
);

it(
  "a receive sent again hands out the same deliveries, leaving nothing leased to nobody",
  { timeout: 60_000 },
  async () => {
    const b = await open();
    await b.enqueue(jobs("default", "record", 2));
    await b.heartbeat("resend-consumer", ["default"], 60_000);
    const before = proxy.cuts;
    proxy.arm("}:ready");
    const got = await b.receive(["default"], { ...lease, consumer: "resend-consumer" });
    expect(proxy.cuts).toBe(before + 1);
    expect(got.map((d) => d.message.id)).toEqual(["default-0"]);
    expect(await b.settle([{ kind: "ack", delivery: got[0]! }])).toEqual([true]);
    const counts = await b.counts("default");
    figures.receive = { delivered: got.map((d) => d.message.id), countsAfterAck: counts };
    expect(counts).toEqual({ ready: 1, delayed: 0, running: 0, dead: 0 });
  },
);

it(
  "when ioredis gives up on a command in flight, the broker sends it again itself, with the same answers",
  { timeout: 60_000 },
  async () => {
    const b = await open(true);
    await b.enqueue(jobs("default", "record", 2));
    await b.heartbeat("own-resend", ["default"], 60_000);
    let before = proxy.cuts;
    proxy.arm("}:ready");
    const got = await b.receive(["default"], { ...lease, consumer: "own-resend" });
    expect(proxy.cuts).toBe(before + 1);
    expect(got.map((d) => d.message.id)).toEqual(["default-0"]);
    before = proxy.cuts;
    proxy.arm("default-0");
    const applied = await b.settle([{ kind: "ack", delivery: got[0]! }]);
    expect(proxy.cuts).toBe(before + 1);
    figures.ownResend = { delivered: got.map((d) => d.message.id), settle: applied };
    expect(applied).toEqual([true]);
    expect(await b.counts("default")).toEqual({ ready: 1, delayed: 0, running: 0, dead: 0 });
  },
);

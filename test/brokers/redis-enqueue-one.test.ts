/**
 * The commonest enqueue (one message due now, no window, debounce or schedule) goes to
 * enqueue-one.lua with the six keys it touches, not to enqueue.lua with twelve (issue 28: Redis
 * spends time on every key and argument of a call). What it cannot decide it leaves to
 * enqueue.lua, storing nothing: an id that exists, a queue with limits. Seen through MONITOR on a
 * redis-server started for this file alone.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutgoingMessage } from "../../src/brokers/broker.js";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { startRedis, until, type ThrowawayRedis } from "../faults/redis-server.js";
import { message } from "./contract.js";

let redis: ThrowawayRedis;
let broker: RedisMessageBroker;
let monitor: Redis;
const calls: string[][] = [];
const seen = new Set<string>();

beforeAll(async () => {
  redis = await startRedis();
  broker = new RedisMessageBroker(redis.url, { prefix: "one" });
  await broker.connect();
  monitor = await redis.admin().duplicate().monitor();
  monitor.on("monitor", (_time: string, args: string[]) => {
    if (args[0]?.toLowerCase() === "evalsha") calls.push(args);
    if (args[0]?.toLowerCase() === "echo") seen.add(args[1]!);
  });
});

afterAll(async () => {
  monitor?.disconnect();
  await broker?.disconnect();
  await redis?.stop();
});

const job = (queue: string, id: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage =>
  message({
    id,
    queue,
    topic: "noop",
    payload: JSON.stringify({ id }),
    timeoutMs: 60_000,
    ...extra,
  });

/** The EVALSHA calls MONITOR reports for what `act` sends. */
async function evalshas(act: () => Promise<unknown>): Promise<string[][]> {
  // MONITOR reports commands in the order Redis ran them: once an ECHO is reported, every
  // command before it has been.
  const reported = async (): Promise<void> => {
    const mark = `mark-${Math.random()}`;
    await redis.admin().echo(mark);
    await until(() => seen.has(mark));
  };
  await reported();
  calls.length = 0;
  await act();
  await reported();
  return calls.splice(0);
}

describe("enqueue-one.lua", () => {
  it("stores a plain message with one call naming six keys, its priority's fresh list among them", async () => {
    await broker.declareQueue("plain");
    const sent = await evalshas(() => broker.enqueue([job("plain", "a", { priority: 2 })]));
    expect(sent).toHaveLength(1);
    expect(sent[0]![2]).toBe("6");
    expect(sent[0]!.slice(3, 9)).toEqual([
      "one:{plain}:declared",
      "one:{plain}:seq",
      "one:{plain}:msg",
      "one:{plain}:fresh:2",
      "one:{plain}:notify",
      "one:{plain}:clock",
    ]);
    const [taken] = await broker.receive(["plain"], { max: 1, leaseMs: 60_000 });
    expect(taken?.message).toMatchObject({ id: "a", priority: 2, payload: '{"id":"a"}' });
  });

  it("leaves an existing id to enqueue.lua: not created, the stored message unchanged", async () => {
    await broker.declareQueue("twice");
    expect(await broker.enqueue([job("twice", "x", { payload: '"first"' })])).toEqual([
      { id: "x", created: true },
    ]);
    const sent = await evalshas(async () =>
      expect(await broker.enqueue([job("twice", "x", { payload: '"second"' })])).toEqual([
        { id: "x", created: false },
      ]),
    );
    expect(sent.map((c) => c[2])).toEqual(["6", "12"]);
    const taken = await broker.receive(["twice"], { max: 10, leaseMs: 60_000 });
    expect(taken.map((d) => d.message.payload)).toEqual(['"first"']);
  });

  it("leaves a queue with limits to enqueue.lua, which holds the job its limit holds", async () => {
    await broker.declareQueue("limited");
    await broker.declareLimits!("limited", "noop", { concurrency: { limit: 1 } });
    const sent = await evalshas(() => broker.enqueue([job("limited", "l1")]));
    expect(sent.map((c) => c[2])).toEqual(["6", "12"]);
    await broker.enqueue([job("limited", "l2")]);
    const first = await broker.receive(["limited"], { max: 10, leaseMs: 60_000 });
    expect(first.map((d) => d.message.id)).toEqual(["l1"]);
    expect(await broker.settle([{ kind: "ack", delivery: first[0]! }])).toEqual([true]);
    const second = await broker.receive(["limited"], { max: 10, leaseMs: 60_000 });
    expect(second.map((d) => d.message.id)).toEqual(["l2"]);
  });

  it("refuses an undeclared queue, storing nothing", async () => {
    await expect(broker.enqueue([job("nowhere", "n")])).rejects.toMatchObject({
      code: "QUEUE_NOT_DECLARED",
    });
    expect(await redis.admin().exists("one:{nowhere}:seq", "one:{nowhere}:msg")).toBe(0);
  });
});

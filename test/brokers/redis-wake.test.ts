/**
 * Redis broker: an idle consumer of one queue wakes up in one round trip. Its receive call is
 * written on the blocking connection right behind the BLPOP, so Redis runs it the moment a token
 * arrives and nothing more goes over the main connection before the delivery is in hand.
 */
import { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { message } from "./contract.js";
import { adminClient, deletePrefix, describeRedis, REDIS_URL, uniquePrefix } from "./redis-env.js";

/** Counts the commands a real client sends, by name (the client is used as is otherwise). */
function counting(client: Redis): Map<string, number> {
  const sent = new Map<string, number>();
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    sent.set(command.name, (sent.get(command.name) ?? 0) + 1);
    return (send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as typeof client.sendCommand;
  return sent;
}

describeRedis("redis broker wake-up", () => {
  let admin: Redis;
  let prefix: string;
  const cleanups: (() => Promise<void>)[] = [];

  beforeEach(() => {
    admin = adminClient();
    prefix = uniquePrefix();
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  async function open(client?: Redis): Promise<RedisMessageBroker> {
    const broker = new RedisMessageBroker(client ?? REDIS_URL, { prefix });
    cleanups.push(async () => {
      await broker.disconnect();
      client?.disconnect();
    });
    await broker.connect();
    return broker;
  }

  /** Resolves once this broker's blocking connection sits in BLPOP. */
  async function blocked(): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const list = await admin.client("LIST");
      const line = String(list)
        .split("\n")
        .find((l) => l.includes(` name=${prefix}:blocking `));
      if (line?.includes(" cmd=blpop ") && / flags=\S*b/.test(line)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("the consumer never blocked");
  }

  it("leases the message over the blocking connection: no receive goes over the main one after the wake", async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true });
    const sent = counting(client);
    const consumer = await open(client);
    const producer = await open();
    await producer.declareQueue("q");
    const ac = new AbortController();
    cleanups.push(async () => ac.abort());
    const received = consumer.receive(["q"], { max: 5, leaseMs: 30_000, signal: ac.signal });
    await blocked();
    const before = sent.get("evalsha") ?? 0;
    await producer.enqueue([message({ id: "woken", queue: "q" })]);
    const deliveries = await received;
    expect(deliveries.map((d) => d.message.id)).toEqual(["woken"]);
    expect((sent.get("evalsha") ?? 0) - before).toBe(0);
    // The lease is real: the settlement is applied, and nobody else can take the message.
    expect(await consumer.settle([{ kind: "ack", delivery: deliveries[0]! }])).toEqual([true]);
    expect(await admin.hexists(`${prefix}:{q}:msg`, "woken")).toBe(0);
  });

  it("hands every message of a burst to the consumers blocked on the queue, once each", async () => {
    const producer = await open();
    await producer.declareQueue("q");
    const consumers = [await open(), await open(), await open()];
    const ac = new AbortController();
    cleanups.push(async () => ac.abort());
    const seen: string[] = [];
    const loops = consumers.map(async (c) => {
      while (seen.length < 30 && !ac.signal.aborted) {
        const got = await c.receive(["q"], { max: 4, leaseMs: 30_000, signal: ac.signal });
        for (const d of got) seen.push(d.message.id);
        if (got.length > 0) await c.settle(got.map((delivery) => ({ kind: "ack", delivery })));
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 30; i++) await producer.enqueue([message({ id: `m${i}`, queue: "q" })]);
    const deadline = Date.now() + 10_000;
    while (seen.length < 30 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    ac.abort();
    await Promise.all(loops);
    expect(seen.length).toBe(30);
    expect(new Set(seen).size).toBe(30);
    expect(await admin.zcard(`${prefix}:{q}:ready`)).toBe(0);
    expect(await admin.hlen(`${prefix}:{q}:lease`)).toBe(0);
  });
});

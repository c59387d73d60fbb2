/**
 * Two waiters on one result, the second starting while the first's subscription is still being
 * set up (a slow subscriber connection). A result stored and published in that window must reach
 * both: each waiter reads only once the subscription is confirmed, and what one read finds is
 * handed to every waiter of the key.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { cuttingProxy, type CuttingProxy } from "./cutting-proxy.js";
import { newPrefix } from "./harness.js";
import { startRedis, until, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
let proxy: CuttingProxy;
beforeAll(async () => {
  redis = await startRedis();
  proxy = await cuttingProxy(redis.port);
});
afterAll(async () => {
  await proxy.close();
  await redis.stop();
});

it(
  "serves both waiters of a result published while their subscription was pending",
  { timeout: 60_000 },
  async () => {
    const prefix = newPrefix();
    const admin = redis.admin();
    const broker = new RedisMessageBroker(`redis://127.0.0.1:${proxy.port}`, { prefix });
    await broker.connect();
    const opened = proxy.connections;
    proxy.holdNewConnections(1500);
    const waiters = [
      broker.waitForResult("two", { timeoutMs: 10_000, queue: "default" }),
      broker.waitForResult("two", { timeoutMs: 10_000, queue: "default" }),
    ];
    // The subscriber connection is open but held: publish now, before it can subscribe.
    await until(() => proxy.connections > opened, 10_000, "subscriber connecting");
    const stored = { ok: true as const, value: "2", finishedAt: 1 };
    await admin.set(`${prefix}:{default}:result:two`, JSON.stringify(stored));
    await admin.publish(`${prefix}:{default}:result:two`, JSON.stringify(stored));
    const got = await Promise.all(waiters);
    await broker.disconnect();
    console.log("fault waiters:", {
      waiters: 2,
      served: got.filter((r) => r !== undefined).length,
    });
    expect(got).toEqual([stored, stored]);
  },
);

import { afterEach, expect, it } from "vitest";
import { describeProgress } from "./progress-runtime.js";
import { adminClient, describeRedis, redisAvailable, testBroker } from "./redis-env.js";
import { clusterAvailable, clusterBroker, describeRedisCluster } from "./redis-cluster-env.js";

describeRedis("redis progress", () => {
  if (!redisAvailable) return;
  describeProgress("redis", async () => {
    const { broker, cleanup } = testBroker();
    return { broker, cleanup };
  });

  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it("keeps the last update under <prefix>:{queue}:update:<id> with its time to live, and announces it", async () => {
    const { broker, prefix, cleanup } = testBroker();
    const admin = adminClient();
    cleanups.push(async () => admin.disconnect(), cleanup);
    await broker.connect();
    await broker.declareQueue("default");
    const stop = new AbortController();
    const heard: unknown[] = [];
    await broker.watchUpdates("default", "j1", (u) => heard.push(u), stop.signal);
    const update = { state: "running", attempt: 1, progress: '{"done":1}', at: 1 } as const;
    await broker.publishUpdate("default", "j1", update, 60_000);
    const key = `${prefix}:{default}:update:j1`;
    expect(JSON.parse((await admin.get(key))!)).toEqual(update);
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await broker.readUpdate("default", "j1")).toEqual(update);
    // The announcement reaches the watcher (its own subscriber connection).
    for (let i = 0; i < 200 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(heard).toEqual([update]);
    stop.abort();
    await broker.publishUpdate("default", "j1", { ...update, attempt: 2 }, 60_000);
    expect(await broker.readUpdate("default", "j2")).toBeUndefined();
    expect(heard).toHaveLength(1);
  });
});

describeRedisCluster("redis cluster progress", () => {
  if (!clusterAvailable) return;
  describeProgress("redis-cluster", async () => {
    const { broker, cleanup } = clusterBroker();
    return { broker, cleanup };
  });
});

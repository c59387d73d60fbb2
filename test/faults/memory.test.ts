/**
 * Faults: a full Redis. With `noeviction`, enqueue fails with Redis's OOM error while a worker
 * still starts (declaring an existing queue writes nothing) and drains the queue. With
 * `allkeys-lru`, the broker warns at connect (or refuses, by option), and a message whose body
 * Redis evicted is dead-lettered under its own code, EVICTED, with a log line.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisBrokerError } from "../../src/brokers/redis/redis-errors.js";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { jobs, newPrefix, producer, Runs, startWorker } from "./harness.js";
import { recordingLogger, startRedis, until, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

it(
  "noeviction: enqueue fails with OOM, a worker starts anyway and drains the queue",
  { timeout: 120_000 },
  async () => {
    const admin = redis.admin();
    await admin.config("SET", "maxmemory-policy", "noeviction");
    await admin.config("SET", "maxmemory", "0");
    const prefix = newPrefix();
    const p = await producer(redis.url, prefix);
    await p.declareQueue("default");
    // Fill up to a limit just above what is used now, then enqueue until Redis refuses.
    const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);
    await admin.config("SET", "maxmemory", String(used + 2_000_000));
    let stored = 0;
    let refusal: unknown;
    for (let batch = 0; batch < 1000 && refusal === undefined; batch++) {
      try {
        const out = await p.enqueue(
          jobs("default", "record_default", 100, stored).map((m) => ({
            ...m,
            payload: `${Number(m.payload)}`.padEnd(64, " "),
          })),
        );
        stored += out.filter((o) => o.created).length;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(RedisBrokerError);
    expect((refusal as RedisBrokerError).redisCode).toBe("OOM");
    expect((refusal as Error).message).toMatch(/OOM command not allowed/);
    const runs = new Runs();
    const w = startWorker(redis.url, prefix, runs, { concurrency: 50 });
    await until(async () => runs.finished.size >= stored, 90_000, "queue drained under OOM");
    await until(async () => (await p.counts("default")).running === 0, 30_000, "settled");
    const counts = await p.counts("default");
    const figures = runs.figures(stored);
    await w.stop();
    await p.disconnect();
    await admin.config("SET", "maxmemory", "0");
    console.log("fault oom:", {
      ...figures,
      enqueueError: (refusal as Error).message,
      left: counts,
    });
    expect(figures).toEqual({ jobs: stored, runs: stored, lost: 0, duplicates: 0 });
    expect(counts).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
  },
);

it(
  "allkeys-lru: a loud warning at connect, refusal by option, EVICTED dead letters",
  { timeout: 120_000 },
  async () => {
    const admin = redis.admin();
    await admin.config("SET", "maxmemory", "0");
    await admin.config("SET", "maxmemory-policy", "allkeys-lru");
    const prefix = newPrefix();
    const refusing = new RedisMessageBroker(redis.url, { prefix, evictionPolicy: "refuse" });
    const refused = await refusing.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    await refusing.disconnect();
    expect(refused).toBeInstanceOf(RedisBrokerError);
    expect((refused as RedisBrokerError).redisCode).toBe("EVICTION_POLICY");

    const logger = recordingLogger();
    const p = await producer(redis.url, prefix, { logger });
    expect(logger.lines.filter((l) => /maxmemory-policy is "allkeys-lru"/.test(l))).toHaveLength(1);
    await p.declareQueue("default");
    const n = 50;
    await p.enqueue(jobs("default", "record_default", n));
    // Let Redis evict under memory pressure. The queue's index is read on every round (recently
    // used), the message bodies are not: the LRU takes the bodies first.
    const key = (s: string): string => `${prefix}:{default}:${s}`;
    // The queue's index: the sorted set and the fresh lists (see scripts/common.lua).
    const indexed = async (): Promise<number> =>
      (await admin.zcard(key("ready"))) +
      (await admin.llen(key("fresh:0"))) +
      (await admin.llen(key("fresh:1"))) +
      (await admin.llen(key("fresh:2")));
    // LRU ages have a resolution of one second: let the bodies age while the index is touched.
    await admin.config("SET", "maxmemory-samples", "64");
    await until(
      async () => {
        await indexed();
        await admin.exists(key("declared"));
        return Number(await admin.object("IDLETIME", key("msg"))) >= 2;
      },
      30_000,
      "bodies idle",
    );
    const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);
    await admin.config("SET", "maxmemory", String(used + 1_000_000));
    for (let i = 0; (await admin.type(key("msg"))) !== "none"; i++) {
      await indexed();
      await admin.exists(key("declared"));
      // Small steps: each SET must free only a little, which the idle bodies alone give. A big
      // one made Redis evict on past them, among keys as recently used as the index (the LRU
      // clock counts whole seconds), and now and then took the index too.
      await admin.set(`junk:${i}`, "x".repeat(2_000));
      if (i > 5000) throw new Error("nothing was evicted");
    }
    await admin.config("SET", "maxmemory", "0");
    expect(await indexed()).toBe(n);
    // A consumer's round meets the bodiless messages: dead-lettered, nothing delivered.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 500);
    const delivered = await p.receive(["default"], {
      max: 100,
      leaseMs: 30_000,
      signal: ac.signal,
    });
    clearTimeout(timer);
    expect(delivered).toEqual([]);
    const dead = await p.deadLetters("default");
    await p.disconnect();
    const codes = new Set(dead.map((d) => d.error.code));
    const said = logger.lines.filter(
      (l) => /EVICTED/.test(l) && l.startsWith("error:") && /had no stored body/.test(l),
    );
    console.log("fault evict:", {
      jobs: n,
      evicted: dead.length,
      codes: [...codes],
      logLines: said.length,
    });
    expect([...codes]).toEqual(["EVICTED"]);
    expect(dead[0]!.error.message).toMatch(/message body missing: evicted\?/);
    expect(said.length).toBeGreaterThan(0);
    expect(said[0]).toContain('"default"');
    await admin.config("SET", "maxmemory-policy", "noeviction");
  },
);

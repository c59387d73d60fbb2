/**
 * What only a cluster can show (issue 13): work spread over three masters is all processed by one
 * worker, a blocked receive wakes for whichever master gets work, results travel over sharded
 * pub/sub on their queue's own shard, heartbeats reach every slot, and enqueues can wait for
 * replica acknowledgement.
 */
import type { Cluster } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import { Connection, Job, Repid, Worker } from "../../src/index.js";
import type { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { RedisBrokerError } from "../../src/brokers/redis/redis-errors.js";
import { RedisResultStore } from "../../src/results/redis-result-store.js";
import { message, waitFor } from "./contract.js";
import {
  clusterAdmin,
  clusterAvailable,
  clusterBroker,
  clusterKeysWithPrefix,
  describeRedisCluster,
  REDIS_CLUSTER_URL,
  masterOfKey,
  queuesOnDistinctMasters,
} from "./redis-cluster-env.js";

describeRedisCluster("redis cluster: queues across masters", () => {
  if (!clusterAvailable) return;
  let admin: Cluster;
  let cleanups: (() => Promise<void>)[] = [];
  let prefix: string;
  let broker: RedisMessageBroker;
  let queues: string[];

  function open(options: Parameters<typeof clusterBroker>[0] = {}): RedisMessageBroker {
    const made = clusterBroker({ prefix, ...options });
    cleanups.push(made.cleanup);
    return made.broker;
  }

  /** Redis clients of this prefix on one master, from CLIENT LIST there. */
  async function clientsOn(node: string, role: string): Promise<{ cmd: string }[]> {
    const conn = admin.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === node)!;
    const list = String(await conn.client("LIST"));
    return list
      .split("\n")
      .filter((line) => line.includes(`name=${prefix}:${role}`))
      .map((line) => ({ cmd: /cmd=(\S+)/.exec(line)?.[1] ?? "" }));
  }

  beforeEach(async () => {
    admin = clusterAdmin();
    await admin.connect();
    const first = clusterBroker();
    prefix = first.prefix;
    cleanups = [first.cleanup];
    broker = first.broker;
    await broker.connect();
    queues = await queuesOnDistinctMasters(admin, prefix, 3);
    for (const q of queues) await broker.declareQueue(q);
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    admin.disconnect();
  });

  it("the test queues sit on three different masters", async () => {
    const masters = await Promise.all(
      queues.map((q) => masterOfKey(admin, `${prefix}:{${q}}:msg`)),
    );
    expect(new Set(masters).size).toBe(3);
    expect(broker.cluster).toBe(true);
  });

  it("one worker reading queues on three masters processes every job of each", async () => {
    const per = 40;
    const done = new Map<string, number[]>(queues.map((q) => [q, []]));
    const worker = new Worker({
      handleSignals: [],
      messagesLimit: per * 3,
      concurrency: 8,
      connection: new Connection(broker),
    });
    for (const q of queues) {
      worker.actor(
        { queue: q, name: `work_${q.replaceAll("-", "_")}` },
        async function work(args: { n: number }) {
          done.get(q)!.push(args.n);
        },
      );
    }
    const app = new Repid(new Connection(broker));
    await app.magic(async () => {
      for (const q of queues) {
        for (let n = 0; n < per; n++)
          await new Job(`work_${q.replaceAll("-", "_")}`, { queue: q, args: { n } }).enqueue();
      }
    });
    const run = await worker.run();
    expect(run).toMatchObject({ processed: per * 3, succeeded: per * 3 });
    for (const q of queues)
      expect(done.get(q)!.sort((a, b) => a - b)).toEqual([...Array(per).keys()]);
    for (const q of queues)
      expect(await broker.counts(q)).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
  });

  it("a receive blocked on three masters wakes for the third, and keeps its other blocking connections", async () => {
    const waiting = open({ maxBlockMs: 60_000 });
    await waiting.connect();
    const nodes = await Promise.all(
      queues.map((q) => masterOfKey(admin, `${prefix}:{${q}}:notify`)),
    );
    for (let round = 0; round < 3; round++) {
      const target = queues[round]!;
      const got = waiting.receive(queues, { max: 1, leaseMs: 60_000 });
      // Blocked on every master (one BLPOP each) before anything is there.
      await waitFor(async () => {
        const per = await Promise.all(nodes.map((n) => clientsOn(n, "blocking")));
        return per.every((list) => list.filter((c) => c.cmd === "blpop").length === 1);
      });
      await broker.enqueue([message({ queue: target, id: `wake-${round}` })]);
      const [d] = await got;
      expect(d?.message.id).toBe(`wake-${round}`);
      expect(d?.message.queue).toBe(target);
      await waiting.settle([{ kind: "ack", delivery: d! }]);
    }
    // The waits cut short were unblocked, not dropped: still one blocking connection per master.
    const per = await Promise.all(nodes.map((n) => clientsOn(n, "blocking")));
    expect(per.map((list) => list.length)).toEqual([1, 1, 1]);
  });

  it("stores a result under its queue's hash tag and delivers it over sharded pub/sub", async () => {
    const q = queues[2]!;
    const m = message({ queue: q, resultTtlMs: 60_000 });
    await broker.enqueue([m]);
    const [d] = await broker.receive([q], { max: 1, leaseMs: 60_000 });
    const waiter = open();
    await waiter.connect();
    const key = `${prefix}:{${q}}:result:${m.id}`;
    const waiting = waiter.waitForResult(m.id, { timeoutMs: 20_000, queue: q });
    const node = await masterOfKey(admin, key);
    const master = admin
      .nodes("master")
      .find((n) => `${n.options.host}:${n.options.port}` === node)!;
    await waitFor(async () => {
      const reply = (await master.call("PUBSUB", "SHARDNUMSUB", key)) as [string, number];
      return Number(reply[1]) === 1;
    });
    const stored = { ok: true as const, value: "42", finishedAt: 1 };
    const [applied] = await broker.settle([
      { kind: "ack", delivery: d!, result: { stored, ttlMs: 60_000 } },
    ]);
    expect(applied).toBe(true);
    expect(await waiting).toEqual(stored);
    expect(await admin.get(key)).toBe(JSON.stringify(stored));
    // Found without the queue too (the broker looks for the job's queue on every master).
    expect(await waiter.readResult(m.id)).toEqual(stored);
  });

  it("writes a consumer's heartbeat on every queue, whatever master holds it", async () => {
    await broker.heartbeat("alive", queues, 60_000);
    for (const q of queues)
      expect(await admin.zscore(`${prefix}:{${q}}:consumers`, "alive")).not.toBeNull();
    const alive = broker.keepAlive("kept", queues, 60_000);
    try {
      await waitFor(async () => {
        const scores = await Promise.all(
          queues.map((q) => admin.zscore(`${prefix}:{${q}}:consumers`, "kept")),
        );
        return scores.every((s) => s !== null);
      });
    } finally {
      await alive.stop();
    }
    const keys = await clusterKeysWithPrefix(admin, prefix);
    expect(keys.every((k) => /\{[^}]+\}/.test(k))).toBe(true);
  });

  it("waitForReplicas: acknowledged by the one replica each master has; asking for two fails NOT_REPLICATED", async () => {
    const durable = open({ waitForReplicas: { replicas: 1, timeoutMs: 5000 } });
    await durable.connect();
    const outcomes = await durable.enqueue(queues.map((q) => message({ queue: q })));
    expect(outcomes.every((o) => o.created)).toBe(true);
    const greedy = open({ waitForReplicas: { replicas: 2, timeoutMs: 200 } });
    await greedy.connect();
    const failed = await greedy.enqueue([message({ queue: queues[0]! })]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RedisBrokerError);
    expect((failed as RedisBrokerError).redisCode).toBe("NOT_REPLICATED");
  });

  it("RedisResultStore on the cluster: a waiter gets a result stored after it began waiting", async () => {
    const store = new RedisResultStore(REDIS_CLUSTER_URL!, { prefix });
    const reader = new RedisResultStore(REDIS_CLUSTER_URL!, { prefix });
    await store.connect();
    await reader.connect();
    try {
      const stored = { ok: true as const, value: "7", finishedAt: 3 };
      const ids = ["a", "b", "c", "d", "e", "f"]; // keys in several slots
      const waits = ids.map((id) => reader.wait(id, { timeoutMs: 20_000 }));
      // Subscribed (plain pub/sub is forwarded by the cluster bus) before anything is stored.
      // (PUBSUB NUMSUB counts the subscribers of the node asked: ask every node.)
      await waitFor(async () => {
        const counts = await Promise.all(
          admin.nodes("all").map(async (n) => {
            const reply = (await n.call("PUBSUB", "NUMSUB", `${prefix}:result:f`)) as [
              string,
              number,
            ];
            return Number(reply[1]);
          }),
        );
        return counts.reduce((a, b) => a + b, 0) >= 1;
      });
      for (const id of ids) await store.store(id, stored, 60_000);
      expect(await Promise.all(waits)).toEqual(ids.map(() => stored));
      expect(await reader.read("c")).toEqual(stored);
    } finally {
      await store.disconnect();
      await reader.disconnect();
    }
  });
});

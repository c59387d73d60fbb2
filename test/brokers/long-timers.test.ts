/**
 * Durations past Node's timer limit (2^31-1 ms, 24.8 days) become timers that wait that long:
 * a plain setTimeout fires such a delay at once (with a TimeoutOverflowWarning). A job deferred
 * by 30 days stays delayed without re-arming a timer in a loop, and `result({ timeout: "30d" })`
 * on Redis, and through a RedisResultStore, waits for the result instead of timing out at once.
 * Issue 24.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { RedisResultStore } from "../../src/results/redis-result-store.js";
import { Connection, Job, Queue, Repid, Router, Worker, silentLogger } from "../../src/index.js";
import {
  REDIS_URL,
  adminClient,
  deletePrefix,
  describeRedis,
  testBroker,
  uniquePrefix,
} from "./redis-env.js";

const THIRTY_DAYS = 30 * 24 * 3600 * 1000;
let warnings: string[] = [];
const onWarning = (warning: Error): void => {
  warnings.push(warning.name);
};
beforeEach(() => {
  warnings = [];
  process.on("warning", onWarning);
});
afterEach(() => {
  process.off("warning", onWarning);
});

/** Lets the event loop turn `n` times through its timers phase. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe("long timers", () => {
  it("in memory: a job deferred by 30 days stays delayed, and no timer overflows", async () => {
    const broker = new InMemoryMessageBroker();
    const app = new Repid(new Connection(broker, { logger: silentLogger }));
    await app.magic(
      async () => {
        await new Queue().declare();
        await new Job("later", { deferBy: THIRTY_DAYS }).enqueue();
        await turns(50);
        expect(await broker.counts("default")).toEqual({
          ready: 0,
          delayed: 1,
          running: 0,
          dead: 0,
        });
      },
      { autoDisconnect: true },
    );
    expect(warnings).not.toContain("TimeoutOverflowWarning");
  });

  /** Waits for a result with a 30-day timeout; the worker runs only after 50 loop turns. */
  async function waitsThirtyDays(connection: Connection): Promise<string[]> {
    const order: string[] = [];
    const router = new Router();
    router.actor({ name: "answer", storeResult: true }, async () => 42);
    const app = new Repid(connection);
    await app.magic(
      async () => {
        await new Queue().declare();
        const handle = await new Job<undefined, number>("answer", { storeResult: true }).enqueue();
        const result = handle.result({ timeout: "30d" }).then(
          (value) => order.push(`result ${value}`),
          (error: Error) => order.push(`failed ${error.name}`),
        );
        await turns(50);
        order.push("worker starts");
        await new Worker({ routers: [router], messagesLimit: 1, logger: silentLogger }).run();
        await result;
      },
      { autoDisconnect: true },
    );
    return order;
  }

  describeRedis("on Redis", () => {
    it("result({ timeout: '30d' }) waits for the result on the Redis broker", async () => {
      const { broker, cleanup } = testBroker({ logger: silentLogger });
      try {
        const order = await waitsThirtyDays(new Connection(broker, { logger: silentLogger }));
        expect(order).toEqual(["worker starts", "result 42"]);
        expect(warnings).not.toContain("TimeoutOverflowWarning");
      } finally {
        await cleanup();
      }
    });

    it("and through a RedisResultStore", async () => {
      const prefix = uniquePrefix();
      const store = new RedisResultStore(REDIS_URL, { prefix, logger: silentLogger });
      const connection = new Connection(new InMemoryMessageBroker(), {
        results: store,
        logger: silentLogger,
      });
      const order = await waitsThirtyDays(connection);
      const admin = adminClient();
      await deletePrefix(admin, prefix);
      admin.disconnect();
      expect(order).toEqual(["worker starts", "result 42"]);
      expect(warnings).not.toContain("TimeoutOverflowWarning");
    });
  });
});

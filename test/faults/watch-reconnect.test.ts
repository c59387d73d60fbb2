/**
 * `watch()` across a lost connection: the watcher's connections are killed and kept out (its ACL
 * user switched off) while the job reports more progress and ends; once they are back, the
 * watcher must read the kept last update and end with the job's final state and latest progress,
 * not hang on the announcements it missed.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { Connection } from "../../src/connection/connection.js";
import { silentLogger } from "../../src/core/logger.js";
import type { JobProgressUpdate } from "../../src/producer/job-watch.js";
import { Job } from "../../src/producer/job.js";
import type { ActorContext as JobContext } from "../../src/worker/actor-function.js";
import { Worker } from "../../src/worker/worker.js";
import { newPrefix } from "./harness.js";
import { startRedis, until, type ThrowawayRedis } from "./redis-server.js";

let redis: ThrowawayRedis;
beforeAll(async () => {
  redis = await startRedis();
  await redis.admin().acl("SETUSER", "watcher", "on", ">pw", "~*", "&*", "+@all");
});
afterAll(async () => {
  await redis.stop();
});

interface Done {
  readonly done: number;
}

it(
  "a watcher whose connection dropped reads the kept update when it is back, and ends with the job",
  { timeout: 60_000 },
  async () => {
    const prefix = newPrefix();
    const admin = redis.admin();
    const watching = new Connection(
      new RedisMessageBroker(`redis://watcher:pw@127.0.0.1:${redis.port}`, { prefix }),
      { logger: silentLogger },
    );
    const working = new Connection(new RedisMessageBroker(redis.url, { prefix }), {
      logger: silentLogger,
    });
    await watching.connect();
    await working.connect();
    await working.broker.declareQueue("default");
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const worker = new Worker({
      connection: working,
      messagesLimit: 1,
      handleSignals: [],
      logger: silentLogger,
    });
    worker.actor(async function report(_: unknown, ctx: JobContext<Done>) {
      await ctx.progress({ done: 1 });
      await gate;
      await ctx.progress({ done: 2 });
      await ctx.progress({ done: 3 });
      return "ok";
    });

    const handle = await new Job("report", { watch: true }).enqueue({ connection: watching });
    // A guard against a watch that never ends (the failure this test exists for).
    const guard = new AbortController();
    const seen: JobProgressUpdate<Done>[] = [];
    const watched = (async () => {
      for await (const update of handle.watch<Done>({ signal: guard.signal })) seen.push(update);
    })();
    await until(() => seen.length === 1, 10_000, "the watcher sees the job waiting");
    const run = worker.run();
    await until(() => seen.at(-1)?.progress?.done === 1, 10_000, "the watcher sees progress 1");

    // The watcher's connections drop and cannot come back; the job goes on meanwhile.
    await admin.acl("SETUSER", "watcher", "off");
    expect(Number(await admin.client("KILL", "USER", "watcher"))).toBeGreaterThanOrEqual(2);
    open();
    expect(await run).toMatchObject({ succeeded: 1 });
    await admin.acl("SETUSER", "watcher", "on");

    const timer = setTimeout(() => guard.abort(), 20_000);
    await watched;
    clearTimeout(timer);
    await watching.disconnect();
    await working.disconnect();
    expect(seen).toEqual([
      { state: "waiting", attempt: 1 },
      { state: "running", attempt: 1 },
      { state: "running", attempt: 1, progress: { done: 1 } },
      // Published while the watcher was away: read back once it is.
      { state: "succeeded", attempt: 1, progress: { done: 3 } },
    ]);
  },
);

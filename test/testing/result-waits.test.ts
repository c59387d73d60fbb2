/**
 * No silent waits: `result()` on a job that is known to store no result fails at once, with an
 * error naming `storeResult`, instead of waiting for its timeout.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Connection,
  InMemoryMessageBroker,
  Job,
  Queue,
  Repid,
  RepidError,
  ResultNotStoredError,
  ResultTimeoutError,
  Worker,
  createClient,
  defineRegistry,
} from "../../src/index.js";

const registry = defineRegistry({
  notify: {
    name: "notify",
    property: "notify",
    queue: "default",
    storeResult: false,
    args: z.object({ to: z.string() }),
    result: z.undefined(),
  },
  add: {
    name: "add",
    property: "add",
    queue: "default",
    storeResult: "1m",
    args: z.object({ a: z.number(), b: z.number() }),
    result: z.number(),
  },
});

function setup(): { app: Repid; worker: Worker } {
  const app = new Repid(new Connection(new InMemoryMessageBroker()));
  const worker = new Worker({ registry, handleSignals: [], messagesLimit: 1 });
  worker.actor(async function notify() {});
  // Stores nothing on its own: the registry's storeResult travels with each job.
  worker.actor(async function add(args: { a: number; b: number }) {
    return args.a + args.b;
  });
  return { app, worker };
}

describe("result() without a stored result", () => {
  it("fails at once for an actor the registry says stores none, naming storeResult", async () => {
    const { app } = setup();
    const jobs = createClient(registry);
    await app.magic(async () => {
      await new Queue().declare();
      const handle = await jobs.notify.enqueue({ to: "ada@example.com" });
      // A timeout far beyond the test's: only an immediate failure passes.
      const error = await handle.result({ timeout: "1h" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResultNotStoredError);
      expect(error).toBeInstanceOf(RepidError);
      expect((error as RepidError).code).toBe("RESULT_NOT_STORED");
      expect((error as Error).message).toMatch(/"notify".*storeResult/s);
      expect(await new Queue().counts()).toMatchObject({ ready: 1 });
    });
  });

  it("waits when the job asks for a result in its options, or the registry says the actor keeps one", async () => {
    const { app, worker } = setup();
    const jobs = createClient(registry);
    await app.magic(async () => {
      await new Queue().declare();
      const asked = await jobs.notify.enqueue({ to: "ada@example.com" }, { storeResult: true });
      expect(asked.storesResult).toBe(true);
      await worker.run();
      expect(await asked.result({ timeout: "5s" })).toBeUndefined();

      const sum = await jobs.add.enqueue({ a: 2, b: 3 });
      expect(sum.storesResult).toBe(true);
      await worker.run();
      expect(await sum.result({ timeout: "5s" })).toBe(5);
    });
  });

  it("a plain Job without storeResult may still get its actor's result, so it waits", async () => {
    const { app } = setup();
    await app.magic(async () => {
      await new Queue().declare();
      const handle = await new Job("notify").enqueue();
      expect(handle.storesResult).toBeUndefined();
      // Nothing runs it here: the wait ends at its timeout, with what to check.
      const error = await handle.result({ timeout: "50ms" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResultTimeoutError);
      expect((error as Error).message).toMatch(
        /within 50 ms \(a result is kept only .*storeResult/,
      );
      const stored = await new Job("add", { storeResult: true }).enqueue();
      expect(stored.storesResult).toBe(true);
    });
  });
});

import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Connection,
  InMemoryMessageBroker,
  Job,
  JobFailedError,
  Queue,
  Repid,
  ValidationError,
  Worker,
  createClient,
  defineRegistry,
} from "../../src/index.js";
import { syncRouter } from "../fixtures/sync-actors.js";

const registry = defineRegistry({
  stamp: {
    name: "stamp",
    property: "stamp",
    queue: "default",
    args: z.object({ label: z.string().min(1) }),
    result: z.object({ label: z.string(), at: z.iso.datetime().transform((s) => new Date(s)) }),
  },
  isDate: {
    name: "isDate",
    property: "isDate",
    queue: "default",
    args: z.object({ at: z.union([z.date(), z.iso.datetime().transform((s) => new Date(s))]) }),
    result: z.object({ isDate: z.boolean(), year: z.number() }),
  },
});

function setup(): {
  app: Repid;
  worker: Worker;
  jobs: ReturnType<typeof createClient<typeof registry>>;
} {
  const connection = new Connection(new InMemoryMessageBroker());
  const worker = new Worker({ registry, routers: [syncRouter], handleSignals: [] });
  worker.actor({ storeResult: true }, async function stamp(args: { label: string }) {
    return { label: args.label, at: new Date(Date.UTC(2026, 10, 28)) };
  });
  return { app: new Repid(connection), worker, jobs: createClient(registry) };
}

describe("the registry client", () => {
  it("decodes results with the result schema (a Date travels as JSON and comes back a Date)", async () => {
    const { app, worker, jobs } = setup();
    await app.magic(async () => {
      await new Queue().declare();
      const handle = await jobs.stamp.enqueue({ label: "x" });
      const running = worker.run();
      const result = await handle.result({ timeout: "5s" });
      expect(result.at).toBeInstanceOf(Date);
      expect(result.at.toISOString()).toBe("2026-11-28T00:00:00.000Z");
      const again = await jobs.stamp.result(handle.id, { timeout: "1s" });
      expect(again.at).toBeInstanceOf(Date);
      worker.stop();
      await running;
    });
  });

  it("validates before sending: invalid args throw ValidationError and nothing is enqueued", async () => {
    const { app, jobs } = setup();
    await app.magic(async () => {
      await new Queue().declare();
      const error = await jobs.stamp.enqueue({ label: "" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        actor: "stamp",
        issues: [expect.objectContaining({ path: ["label"] })],
      });
      expect(await new Queue().counts()).toEqual({ ready: 0, delayed: 0, running: 0, dead: 0 });
    });
  });

  it("hands a sync actor in a thread the schema's output, a Date included", async () => {
    const { app, worker, jobs } = setup();
    await app.magic(async () => {
      await new Queue().declare();
      const handle = await jobs.isDate.enqueue(
        { at: new Date(Date.UTC(2030, 0, 1)) },
        { storeResult: true },
      );
      const running = worker.run();
      expect(await handle.result({ timeout: "10s" })).toEqual({ isDate: true, year: 2030 });
      worker.stop();
      await running;
    });
  });

  it("stores a failed result for a payload the worker rejects, so the producer learns at once", async () => {
    const { app, worker } = setup();
    await app.magic(async () => {
      await new Queue().declare();
      // A hand-written message (an older producer, say) that the registry's schema refuses.
      const handle = await new Job("stamp", {
        args: { label: 42 },
        storeResult: true,
      }).enqueue();
      const running = worker.run();
      const error = await handle.result({ timeout: "5s" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobFailedError);
      expect(error).toMatchObject({ remote: { code: "VALIDATION" } });
      worker.stop();
      await running;
      expect((await new Queue().deadLetters())[0]!.error.code).toBe("VALIDATION");
    });
  });
});

import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Job,
  Queue,
  ValidationError,
  Worker,
  defineRegistry,
  silentLogger,
  type Logger,
} from "../../src/index.js";
import { syncRouter } from "../fixtures/sync-actors.js";
import { memoryApp } from "../helpers.js";

/** `countsInThread` reports `done` 1 to 3; its registry's progress schema takes up to 2. */
const registry = defineRegistry({
  countsInThread: {
    name: "countsInThread",
    property: "countsInThread",
    queue: "default",
    args: z.object({ steps: z.number() }),
    result: z.object({ steps: z.number() }),
    progress: z.object({ done: z.number().max(2), of: z.number() }),
  },
});

describe("progress from sync actors, with a registry", () => {
  it("a value from a thread that does not fit the progress schema is not published, and the worker logs its ValidationError", async () => {
    const warned: unknown[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (_message, meta) => warned.push(meta?.["error"]),
    };
    const { app } = memoryApp();
    await app.magic(async () => {
      await new Queue().declare();
      const handle = await new Job("countsInThread", { args: { steps: 3 } }).enqueue();
      await new Worker({
        routers: [syncRouter],
        registry,
        messagesLimit: 1,
        threads: 1,
        logger,
      }).run();
      expect(await handle.progress()).toEqual({ done: 2, of: 3 });
      expect(warned).toHaveLength(1);
      expect(warned[0]).toBeInstanceOf(ValidationError);
      expect(warned[0]).toMatchObject({ code: "VALIDATION", actor: "countsInThread" });
    });
  });
});

import { describe, expect, it } from "vitest";
import { Job, Queue, Worker } from "../../src/index.js";
import { syncRouter } from "../fixtures/sync-actors.js";
import { memoryApp } from "../helpers.js";

/** Runs one job of `actor` with a watcher on it; what the watcher saw, and the last progress. */
async function watched(actor: string): Promise<{ seen: unknown[]; last: unknown }> {
  const { app } = memoryApp();
  return app.magic(async () => {
    await new Queue().declare();
    const handle = await new Job(actor, { args: { steps: 3 }, watch: true }).enqueue();
    const seen: unknown[] = [];
    const watching = (async () => {
      for await (const update of handle.watch<{ done: number; of: number }>()) {
        if (update.progress !== undefined) seen.push(update.progress);
      }
    })();
    await new Worker({ routers: [syncRouter], messagesLimit: 1, threads: 1 }).run();
    await watching;
    return { seen, last: await handle.progress() };
  });
}

describe("progress from sync actors", () => {
  it("a thread's ctx.progress reaches watchers, in order, and the last value stays", async () => {
    const { seen, last } = await watched("countsInThread");
    expect(last).toEqual({ done: 3, of: 3 });
    // Every value a watcher saw is one the actor reported, in the order it reported them.
    const dones = seen.map((p) => (p as { done: number }).done);
    expect(dones.length).toBeGreaterThan(0);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
    expect(dones.at(-1)).toBe(3);
  });

  it("a child process's ctx.progress reaches watchers too", async () => {
    const { last } = await watched("countsInProcess");
    expect(last).toEqual({ done: 3, of: 3 });
  });
});

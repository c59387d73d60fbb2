import { afterEach, expect, it } from "vitest";
import { describeProgress } from "./progress-runtime.js";
import { waitFor } from "./contract.js";
import { describePostgres, postgresAvailable, testBroker } from "./postgres-env.js";

describePostgres("postgres progress", () => {
  if (!postgresAvailable) return;
  describeProgress("postgres", async () => {
    const { broker, cleanup } = testBroker();
    return { broker, cleanup };
  });

  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it("keeps the last update until its time to live; a watcher on another broker hears each one, a large one too, until it stops", async () => {
    const a = testBroker();
    const b = testBroker({ schema: a.schema });
    cleanups.push(a.cleanup, () => b.broker.disconnect());
    await a.broker.connect();
    await b.broker.connect();
    await a.broker.declareQueue("default");
    const stop = new AbortController();
    const heard: unknown[] = [];
    await b.broker.watchUpdates("default", "j1", (u) => heard.push(u), stop.signal);
    const first = { state: "running", attempt: 1, progress: '{"done":1}', at: 1 } as const;
    // Past what one notification carries: the watcher reads it from the table.
    const large = { ...first, progress: JSON.stringify({ blob: "x".repeat(20_000) }), at: 2 };
    await a.broker.publishUpdate("default", "j1", first, 60_000);
    await a.broker.publishUpdate("default", "j1", large, 60_000);
    await waitFor(() => heard.length === 2);
    expect(heard).toEqual([first, large]);
    expect(await b.broker.readUpdate("default", "j1")).toEqual(large);
    stop.abort();
    await a.broker.publishUpdate("default", "j1", { ...first, attempt: 2 }, 60_000);
    await a.broker.publishUpdate("default", "j2", first, 100);
    await waitFor(async () => (await a.broker.readUpdate("default", "j2")) === undefined);
    expect(heard).toHaveLength(2);
  });
});

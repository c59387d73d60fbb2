/**
 * Typed flows end to end (issue 27): chains, fan-out and fan-in, a failed step failing the flow,
 * on every broker that can hold them (dedupe and results); others refuse.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { capabilitiesOf } from "repid/broker";
import {
  Connection,
  FlowFailedError,
  Queue,
  Repid,
  Worker,
  createClient,
  flow,
  silentLogger,
} from "repid";
import { flowActors, flowRegistry } from "./flow-actors.js";
import type { RuntimeBrokerFactory } from "./runtime-contract.js";

export function describeFlows(name: string, factory: RuntimeBrokerFactory): void {
  describe(`flows on ${name}`, () => {
    let app: Repid;
    let cleanup: () => Promise<void>;
    let worker: Worker | undefined;
    let running: Promise<unknown> | undefined;
    const runs: string[] = [];
    const jobs = createClient(flowRegistry);

    beforeEach(async () => {
      const made = await factory();
      cleanup = made.cleanup;
      app = new Repid(
        new Connection(made.broker, {
          logger: silentLogger,
          ...(made.results ? { results: made.results } : {}),
        }),
      );
      runs.length = 0;
      await app.magic(async () => {
        await new Queue("default").declare();
        await new Queue("other").declare();
      });
    });

    afterEach(async () => {
      worker?.stop();
      await running;
      worker = running = undefined;
      await cleanup();
    });

    function start(): void {
      worker = new Worker({
        routers: [flowActors(runs)],
        registry: flowRegistry,
        handleSignals: [],
        connection: app.connection,
      });
      running = worker.run();
    }

    /** Stops the worker once what it holds is settled (and its flows' hand-overs are done). */
    async function settled(): Promise<void> {
      worker?.stop();
      await running;
      worker = running = undefined;
    }

    const kept = async (id: string, queue: string): Promise<boolean> =>
      (await app.connection.broker.readResult(id, { queue })) !== undefined;

    const holds = (): boolean => {
      const caps = capabilitiesOf(app.connection.broker);
      return caps.dedupe === true && caps.results && !!app.connection.broker.storeResult;
    };

    it("a chain of three: each step gets the previous result; the flow's result is the last one's, typed", async (ctx) => {
      if (!holds()) return ctx.skip();
      await app.magic(async () => {
        const page = await flow(jobs.fetchPage.with({ url: "one" }))
          .then(jobs.parsePage)
          .then(jobs.storeRows)
          .enqueue();
        start();
        const stored: number = await page.result({ timeout: "10s" });
        expect(stored).toBe(2);
        expect(runs).toEqual(["fetch_page", "parse_page", "store_rows"]);
        expect((await page.steps()).map((s) => [s.actor, s.state])).toEqual([
          ["fetch_page", "succeeded"],
          ["parse_page", "succeeded"],
          ["store_rows", "succeeded"],
        ]);
      });
    });

    it("fan-out and fan-in: five branches, the join gets their results in order", async (ctx) => {
      if (!holds()) return ctx.skip();
      await app.magic(async () => {
        const widths = [100, 200, 300, 400, 500] as const;
        const zip = await flow
          .all([
            jobs.resize.with({ width: widths[0] }),
            jobs.resize.with({ width: widths[1] }),
            jobs.resize.with({ width: widths[2] }),
            jobs.resize.with({ width: widths[3] }),
            jobs.resize.with({ width: widths[4] }),
          ])
          .then(jobs.zipFiles)
          .enqueue();
        start();
        const zipped: string = await zip.result({ timeout: "10s" });
        expect(zipped).toBe("100:300,200:600,300:900,400:1200,500:1500");
        expect(runs.filter((r) => r === "resize")).toHaveLength(5);
        expect(runs.filter((r) => r === "zip_files")).toHaveLength(1);
        expect(runs[runs.length - 1]).toBe("zip_files");
      });
    });

    it("a chain's intermediate results are removed once handed over; the flow's result remains", async (ctx) => {
      if (!holds()) return ctx.skip();
      await app.magic(async () => {
        const page = await flow(jobs.fetchPage.with({ url: "one" }))
          .then(jobs.parsePage) // its actor keeps results (storeResult)
          .then(jobs.storeRows)
          .enqueue();
        start();
        expect(await page.result({ timeout: "10s" })).toBe(2);
        await settled();
        expect(runs).toEqual(["fetch_page", "parse_page", "store_rows"]);
        expect(await kept(`${page.id}~0`, "default")).toBe(false);
        expect(await kept(`${page.id}~1`, "default")).toBe(false);
        expect(await kept(`${page.id}~2`, "other")).toBe(true);
        expect(await page.result({ timeout: "1s" })).toBe(2);
        expect((await page.steps()).map((s) => s.state)).toEqual([
          "succeeded",
          "succeeded",
          "succeeded",
        ]);
      });
    });

    it("an all's branch results are removed once the join is enqueued; the join's result remains", async (ctx) => {
      // A broker without deleteResult keeps them until their time to live (the contract allows).
      if (!holds() || !app.connection.broker.deleteResult) return ctx.skip();
      await app.magic(async () => {
        const zip = await flow
          .all([
            jobs.resize.with({ width: 1 }),
            jobs.resize.with({ width: 2 }),
            jobs.resize.with({ width: 3 }),
          ])
          .then(jobs.zipFiles)
          .enqueue();
        start();
        expect(await zip.result({ timeout: "10s" })).toBe("1:3,2:6,3:9");
        await settled();
        expect(runs).toEqual(["resize", "resize", "resize", "zip_files"]);
        for (const b of [0, 1, 2]) expect(await kept(`${zip.id}~0.${b}`, "default")).toBe(false);
        expect(await kept(`${zip.id}~1`, "other")).toBe(true);
        expect(await zip.result({ timeout: "1s" })).toBe("1:3,2:6,3:9");
        const steps = await zip.steps();
        expect(steps.map((s) => [s.id, s.state])).toEqual([
          [`${zip.id}~0.0`, "succeeded"],
          [`${zip.id}~0.1`, "succeeded"],
          [`${zip.id}~0.2`, "succeeded"],
          [`${zip.id}~1`, "succeeded"],
        ]);
      });
    });

    it("an all without a join gives the tuple of its results", async (ctx) => {
      if (!holds()) return ctx.skip();
      await app.magic(async () => {
        const both = await flow
          .all([jobs.resize.with({ width: 1 }), jobs.fetchPage.with({ url: "x" })])
          .enqueue();
        start();
        const [resized, page] = await both.result({ timeout: "10s" });
        expect(resized.bytes).toBe(3);
        expect(page.html).toContain("x");
      });
    });

    it("a dead-lettered branch fails the flow, naming the step; the join never runs", async (ctx) => {
      if (!holds()) return ctx.skip();
      await app.magic(async () => {
        const zip = await flow
          .all([jobs.resize.with({ width: 100 }), jobs.explode.with({ width: 200 })])
          .then(jobs.zipFiles)
          .enqueue();
        start();
        const error = await zip.result({ timeout: "10s" }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(FlowFailedError);
        expect(error).toMatchObject({
          code: "FLOW_FAILED",
          step: { stage: 0, branch: 1, actor: "explode" },
          remote: { code: "NO_RETRY" },
        });
        await new Promise((r) => setTimeout(r, 200));
        expect(runs).not.toContain("zip_files");
        const steps = await zip.steps();
        expect(steps.map((s) => s.state)).toEqual(["succeeded", "dead", "skipped"]);
      });
    });

    it("a failed middle step fails a chain; the steps after it never run", async (ctx) => {
      if (!holds()) return ctx.skip();
      await app.magic(async () => {
        const chain = await flow(jobs.fetchPage.with({ url: "one" }))
          .then(jobs.checkPage)
          .then(jobs.storeRows, { retries: 2 })
          .enqueue();
        start();
        await expect(chain.result({ timeout: "10s" })).rejects.toMatchObject({
          code: "FLOW_FAILED",
          step: { stage: 1, actor: "check_page" },
        });
        expect(runs).toEqual(["fetch_page", "check_page"]);
      });
    });

    it("a flow whose later step's queue is not declared is refused at enqueue, sending nothing", async (ctx) => {
      if (!holds()) return ctx.skip();
      await app.magic(async () => {
        await new Queue("other").delete();
        await expect(
          flow(jobs.fetchPage.with({ url: "one" }))
            .then(jobs.parsePage)
            .then(jobs.storeRows)
            .enqueue(),
        ).rejects.toMatchObject({ code: "QUEUE_NOT_DECLARED", queue: "other" });
        expect((await new Queue().counts()).ready).toBe(0);
      });
    });

    it("a broker that cannot hold a flow refuses it, sending nothing", async (ctx) => {
      if (holds()) return ctx.skip();
      await app.magic(async () => {
        await expect(
          flow(jobs.fetchPage.with({ url: "one" }))
            .then(jobs.parsePage)
            .enqueue(),
        ).rejects.toMatchObject({ code: "NOT_SUPPORTED", operation: "flows" });
        expect((await new Queue().counts()).ready).toBe(0);
      });
    });
  });
}

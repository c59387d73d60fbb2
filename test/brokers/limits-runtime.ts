/**
 * Limits end to end: actors with `concurrency` and `rateLimit` run by several Workers, each on
 * a connection of its own, fed by a producer that knows nothing of the limits. Run on every
 * broker that claims `limits` (see limits-contract.ts for `SharedBrokerFactory`).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { capabilitiesOf } from "repid/broker";
import { Connection, Job, Queue, Router, Worker, defineRegistry, silentLogger } from "repid";
import { waitFor } from "./contract.js";
import type { SharedBrokerFactory } from "./limits-contract.js";

interface Sync {
  account: { id: string };
  n: number;
}

export function describeLimitsRuntime(name: string, factory: SharedBrokerFactory): void {
  describe(`limits across workers: ${name}`, () => {
    let open: () => Promise<Connection>;
    let cleanup: () => Promise<void>;
    const workers: Worker[] = [];
    const runs: Promise<unknown>[] = [];

    beforeEach(async (ctx) => {
      const made = await factory();
      cleanup = made.cleanup;
      open = async () => new Connection(await made.open(), { logger: silentLogger });
      const probe = await made.open();
      if (!capabilitiesOf(probe).limits) {
        await cleanup();
        ctx.skip();
      }
    });

    afterEach(async () => {
      for (const w of workers.splice(0)) w.stop();
      await Promise.allSettled(runs.splice(0));
      await cleanup?.();
    });

    /** Starts `count` workers of `router`, each on its own connection, and waits until they run. */
    async function start(router: Router, count: number): Promise<void> {
      let started = 0;
      for (let i = 0; i < count; i++) {
        const worker = new Worker({
          routers: [router],
          connection: await open(),
          handleSignals: [],
          concurrency: 10,
          hooks: [{ onEvent: (e) => void (e.type === "worker-started" && started++) }],
        });
        workers.push(worker);
        runs.push(worker.run());
      }
      // A worker declares its actors' limits before it starts receiving.
      await waitFor(() => started === count);
    }

    it("never runs more than the limit per key at once, across three workers; keys run side by side", async () => {
      const running = new Map<string, number>();
      let most = 0;
      let mostTogether = 0;
      let together = 0;
      let done = 0;
      const router = new Router();
      router.actor(
        { name: "sync_account", queue: "crm", concurrency: { limit: 2, key: "account.id" } },
        async function syncAccount(args: Sync) {
          const now = (running.get(args.account.id) ?? 0) + 1;
          running.set(args.account.id, now);
          most = Math.max(most, now);
          mostTogether = Math.max(mostTogether, ++together);
          await new Promise((r) => setTimeout(r, 40));
          running.set(args.account.id, running.get(args.account.id)! - 1);
          together--;
          done++;
        },
      );
      await start(router, 3);
      const producer = await open();
      // A plain Job: the producer has no registry and knows nothing of the limits. All sent at
      // once, so that each key has a backlog whatever one enqueue costs on a busy machine.
      await Promise.all(
        Array.from({ length: 36 }, (_, n) =>
          new Job("sync_account", {
            queue: "crm",
            args: { account: { id: ["a", "b", "c"][n % 3] }, n },
            connection: producer,
          }).enqueue(),
        ),
      );
      await waitFor(() => done === 36, 30_000);
      expect(most).toBe(2);
      expect(mostTogether).toBeGreaterThan(2);
      expect(mostTogether).toBeLessThanOrEqual(6);
    });

    it("never starts more than the rate limit in any window, across two workers", async () => {
      const starts: number[] = [];
      const router = new Router();
      router.actor(
        { name: "call_api", queue: "crm", rateLimit: { limit: 4, per: "500ms" } },
        async function callApi() {
          starts.push(Date.now());
        },
      );
      await start(router, 2);
      const producer = await open();
      await new Job("call_api", { queue: "crm", connection: producer }).enqueue();
      for (let n = 1; n < 10; n++)
        await new Job("call_api", { queue: "crm", connection: producer }).enqueue();
      await waitFor(() => starts.length === 10, 30_000);
      starts.sort((a, b) => a - b);
      for (let i = 4; i < starts.length; i++)
        expect(starts[i]! - starts[i - 4]!).toBeGreaterThanOrEqual(500);
    });

    it("Queue.declare with a registry declares the limits before any worker runs", async () => {
      const registry = defineRegistry({
        sync_account: {
          name: "sync_account",
          property: "syncAccount",
          queue: "crm",
          args: z.object({ account: z.object({ id: z.string() }), n: z.number() }),
          result: z.void(),
          concurrency: { limit: 1, key: "account.id" },
        },
      });
      const producer = await open();
      await new Queue("crm", { connection: producer }).declare({ registry });
      for (let n = 0; n < 3; n++) {
        await new Job("sync_account", {
          queue: "crm",
          args: { account: { id: "a" }, n },
          connection: producer,
        }).enqueue();
      }
      expect(await new Queue("crm", { connection: producer }).counts()).toMatchObject({
        ready: 1,
        limited: 2,
      });
    });
  });
}

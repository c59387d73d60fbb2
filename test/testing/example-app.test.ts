/**
 * The example app's own tests, written as a user of repid would write them: with `repid/testing`,
 * no broker or worker started by hand.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import { Job, NoRetryError, Queue, ValidationError } from "repid";
import { createTestApp, type TestApp } from "repid/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Currency, jobs, registry, type OrderInput } from "../../example-app/generated/registry.js";

// The email actor writes to an outbox file named when its module loads.
const dir = mkdtempSync(join(tmpdir(), "repid-testing-"));
const outbox = join(dir, "outbox.jsonl");
let router: typeof import("../../example-app/actors/index.js").router;
beforeAll(async () => {
  process.env["REPID_EXAMPLE_OUTBOX"] = outbox;
  ({ router } = await import("../../example-app/actors/index.js"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const order: OrderInput = {
  id: "o-1",
  customer: { email: "ada@example.com", vip: true },
  items: [{ sku: "book", quantity: 2, unitPrice: { amount: 1500, currency: Currency.EUR } }],
  shipTo: { name: "Ada", street: "1 Loop St", city: "London", country: "UK" },
  placedAt: "2026-11-28T09:00:00.000Z",
};

let testing: TestApp<typeof registry>;
afterEach(async () => {
  await testing.close();
});

describe("the example app under repid/testing", () => {
  it("runs a job inline: when enqueue() returns, the actor has run and its result is stored", async () => {
    testing = await createTestApp({ routers: [router], registry });
    await testing.magic(async () => {
      const handle = await jobs.processOrder.enqueue(order);
      expect(await new Queue("orders").counts()).toEqual({
        ready: 0,
        delayed: 0,
        running: 0,
        dead: 0,
      });
      expect(await handle.result({ timeout: "1ms" })).toMatchObject({
        orderId: "o-1",
        status: "accepted",
        total: { amount: 3000, currency: "EUR" },
        shipBy: "2026-11-29T09:00:00.000Z",
      });
    });
    // Typed by the registry, and as the actor received them: the ISO string became a Date.
    const [sent] = testing.enqueued("process_order");
    expect(sent?.placedAt).toEqual(new Date("2026-11-28T09:00:00.000Z"));
    expect(testing.enqueued("send_email")).toEqual([]);
  });

  it("runs the real email actor, and asserts on what was enqueued", async () => {
    testing = await createTestApp({ routers: [router], registry });
    const email = { to: "ada@example.com", subject: "Welcome", body: "Hello Ada" };
    const handle = await testing.jobs.sendEmail.enqueue(email);
    expect(testing.enqueued("send_email")).toEqual([email]);
    const lines = readFileSync(outbox, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.id === handle.id)).toEqual([{ id: handle.id, ...email }]);
    expect((await handle.result()).messageId).toBe(handle.id);
  });

  it("replaces an actor by a mock for one test; the registry still validates as in production", async () => {
    testing = await createTestApp({ routers: [router], registry });
    const calls: unknown[] = [];
    testing.mock("charge_card", async (charge) => {
      calls.push(charge);
      throw new NoRetryError(`card declined for ${charge.orderId}`);
    });
    const charge = {
      orderId: "o-1",
      amount: { amount: 3000, currency: Currency.EUR },
      declines: 0,
    };
    const handle = await testing.jobs.chargeCard.enqueue(charge, { retries: 3 });
    expect(calls).toEqual([charge]);
    await expect(handle.result()).rejects.toMatchObject({
      remote: { name: "NoRetryError", message: "card declined for o-1" },
    });

    // The producer's check: nothing is sent.
    const invalid = { ...charge, declines: "none" } as unknown as typeof charge;
    await expect(testing.jobs.chargeCard.enqueue(invalid)).rejects.toBeInstanceOf(ValidationError);
    // The worker's check, for a message that bypasses the client: dead-lettered, never run.
    await testing.magic(async () => {
      await new Job("charge_card", { queue: "payments", args: { orderId: 7 } }).enqueue();
      const dead = await new Queue("payments").deadLetters();
      expect(dead.map((d) => [d.error.code, d.error.name])).toEqual([
        ["NO_RETRY", "NoRetryError"],
        ["VALIDATION", "ValidationError"],
      ]);
    });
    expect(calls).toHaveLength(1);
    expect(testing.enqueued("charge_card")).toHaveLength(2);
  });

  it("retries wait for the test clock: advance() runs them, in order", async () => {
    testing = await createTestApp({ routers: [router], registry });
    // Declined twice: retries after 25 ms, then 50 ms (the actor's linear backoff).
    const charge = { orderId: "o-2", amount: { amount: 100, currency: Currency.USD }, declines: 2 };
    const handle = await testing.jobs.chargeCard.enqueue(charge, { retries: 3 });
    await testing.magic(async () => {
      expect(await new Queue("payments").counts()).toMatchObject({ delayed: 1, running: 0 });
      await testing.advance("30ms");
      expect(await new Queue("payments").counts()).toMatchObject({ delayed: 1 });
      await testing.advance("30ms");
      expect(await new Queue("payments").counts()).toMatchObject({ delayed: 1 });
      await testing.advance("30ms");
      expect(await new Queue("payments").counts()).toMatchObject({ delayed: 0, dead: 0 });
    });
    expect(await handle.result()).toEqual({ orderId: "o-2", status: "captured", attempts: 3 });
  });

  it("deferred and periodic jobs run when the clock reaches them", async () => {
    testing = await createTestApp({ routers: [router], registry });
    const sent: string[] = [];
    testing.mock("send_email", (email, context) => {
      // A periodic job runs on its schedule; other delays are kept to the millisecond or so.
      sent.push(email.subject === "tick" ? `tick@${testing.now() - start}` : email.subject);
      return { messageId: context.jobId, bytes: 0 };
    });
    const start = testing.now();
    const email = { to: "ops@example.com", body: "" };
    await testing.jobs.sendEmail.enqueue({ ...email, subject: "later" }, { deferBy: "1h" });
    await testing.magic(() =>
      new Job("send_email", {
        queue: "emails",
        args: { ...email, subject: "tick" },
        deferBy: "20m",
        recurring: true,
      }).enqueue(),
    );
    await testing.advance("59m");
    expect(sent).toEqual(["tick@1200000", "tick@2400000"]);
    await testing.advance("1m");
    expect(sent.slice(2)).toEqual(["later", "tick@3600000"]);
    expect(testing.now() - start).toBe(3_600_000);
  });

  it("with inline: false, jobs wait in their queue until drain()", async () => {
    testing = await createTestApp({ routers: [router], registry, inline: false });
    await testing.magic(async () => {
      const handles = [
        await jobs.countPrimes.enqueue({ below: 100 }),
        await jobs.countPrimes.enqueue({ below: 1000 }),
      ];
      expect(await new Queue("cpu").counts()).toMatchObject({ ready: 2, running: 0 });
      expect(testing.enqueued("count_primes")).toEqual([{ below: 100 }, { below: 1000 }]);
      await testing.drain();
      expect(await new Queue("cpu").counts()).toMatchObject({ ready: 0, running: 0 });
      // The sync actor ran on the test's own thread, where mocks and breakpoints reach it.
      expect(await handles[0]!.result()).toEqual({ below: 100, count: 25, threadId });
      expect((await handles[1]!.result()).count).toBe(168);
    });
  });
});

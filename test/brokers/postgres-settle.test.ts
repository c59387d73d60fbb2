/**
 * A batch of acknowledgements goes to Postgres as one set-based statement (`settle_acks`): each
 * ack told whether it applied (a stale lease's is refused), the results of the applied ones
 * stored, waiters woken; a batch with anything else (a requeue, a dead letter) goes through
 * `settle`, message by message, with the same answers.
 */
import pg from "pg";
import { PostgresMessageBroker } from "repid/postgres";
import { afterEach, expect, it } from "vitest";
import type { Delivery } from "repid/broker";
import { message } from "./contract.js";
import { describePostgres, dropSchema, POSTGRES_URL, uniqueSchema } from "./postgres-env.js";

/** A real pool that counts the settle statements sent through it, by function. */
class CountingPool extends pg.Pool {
  acks = 0;
  settles = 0;
  override query(...args: unknown[]): never {
    const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string })?.text;
    if (text?.includes(".settle_acks(")) this.acks++;
    else if (text?.includes(".settle(")) this.settles++;
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(): Promise<{ broker: PostgresMessageBroker; pool: CountingPool }> {
  const schema = uniqueSchema();
  const pool = new CountingPool({ connectionString: POSTGRES_URL, max: 10 });
  const broker = new PostgresMessageBroker(pool, { schema });
  cleanups.push(async () => {
    await broker.disconnect();
    await pool.end();
    await dropSchema(schema);
  });
  await broker.connect();
  await broker.declareQueue("default");
  return { broker, pool };
}

const LEASE = 60_000;

describePostgres("postgres settle", () => {
  it("100 acks are one statement: 3 stale leases refused, the others applied with their results", async () => {
    const { broker, pool } = await open();
    await broker.enqueue(Array.from({ length: 100 }, (_, i) => message({ id: `m-${i}` })));
    const got = await broker.receive(["default"], { max: 100, leaseMs: LEASE });
    expect(got).toHaveLength(100);
    const stale = new Set(["m-3", "m-50", "m-99"]);
    const waiting = broker.waitForResult("m-7", { timeoutMs: 10_000 });
    const stored = { ok: true as const, value: "7", finishedAt: Date.now() };
    const settlements = got.map((d: Delivery) => ({
      kind: "ack" as const,
      delivery: stale.has(d.message.id) ? { ...d, token: "999999999" } : d,
      ...(d.message.id === "m-7" ? { result: { stored, ttlMs: 60_000 } } : {}),
    }));
    const before = pool.acks;
    const applied = await broker.settle(settlements);
    expect(pool.acks - before).toBe(1);
    expect(applied).toEqual(got.map((d) => !stale.has(d.message.id)));
    expect(await waiting).toEqual(stored);
    expect(await broker.counts("default")).toMatchObject({ running: 3, ready: 0 });
  });

  it("a batch with a requeue or a dead letter goes message by message, with the same answers", async () => {
    const { broker, pool } = await open();
    await broker.enqueue(Array.from({ length: 3 }, (_, i) => message({ id: `m-${i}` })));
    const [a, b, c] = await broker.receive(["default"], { max: 3, leaseMs: LEASE });
    const before = { acks: pool.acks, settles: pool.settles };
    const applied = await broker.settle([
      { kind: "ack", delivery: a! },
      { kind: "requeue", delivery: b!, attempt: 2 },
      {
        kind: "dead",
        delivery: c!,
        error: { name: "Error", message: "no", code: "X" },
      },
    ] as never);
    expect(applied).toEqual([true, true, true]);
    expect(pool.acks - before.acks).toBe(0);
    expect(pool.settles - before.settles).toBe(1);
    expect(await broker.counts("default")).toMatchObject({ ready: 1, running: 0, dead: 1 });
  });
});

/**
 * Redis settle script: the arguments each kind of settlement costs on the wire, and the cancel
 * marks a settlement clears (counted in the clock hash, so that settlements on a queue without
 * marks skip looking for one).
 */
import { describe, expect, it } from "vitest";
import type { Delivery, Settlement } from "../../src/brokers/broker.js";
import { KeySpace } from "../../src/brokers/redis/connection.js";
import { buildSettleCalls } from "../../src/brokers/redis/operations.js";
import { message } from "./contract.js";
import { brokerPerTest, describeRedis } from "./redis-env.js";

function delivery(id: string): Delivery {
  return {
    message: {
      ...message({ id }),
      attempt: 1,
      enqueuedAt: 0,
      stalls: 0,
    },
    token: `call.1`,
    leaseUntil: 0,
  } as unknown as Delivery;
}

describe("settle arguments", () => {
  const keys = new KeySpace("p");
  const argsOf = (settlements: Settlement[]): readonly (string | number)[] =>
    buildSettleCalls(keys, settlements, 10, () => "c").calls[0]!.args;

  it("sends a plain ack as three arguments, and a kept result after the kind's own", () => {
    const d = delivery("m1");
    expect(argsOf([{ kind: "ack", delivery: d }])).toEqual([10, 1, "a", "m1", "call.1", 0, "p"]);
    expect(argsOf([{ kind: "requeue", delivery: d, attempt: 2, executeAt: 5 }])).toEqual([
      10,
      1,
      "r",
      "m1",
      "call.1",
      "2",
      "5",
      0,
      "p",
    ]);
    const stored = { ok: true as const, value: "1", finishedAt: 3 };
    const call = buildSettleCalls(
      keys,
      [
        { kind: "ack", delivery: d, result: { stored, ttlMs: 1000 } },
        { kind: "dead", delivery: delivery("m2"), error: { name: "E", message: "x" } },
      ],
      10,
      () => "c",
    ).calls[0]!;
    expect(call.args).toEqual([
      10,
      2,
      "A",
      "m1",
      "call.1",
      JSON.stringify(stored),
      "1000",
      call.keys.length,
      "d",
      "m2",
      "call.1",
      JSON.stringify({ name: "E", message: "x" }),
      0,
      "p",
    ]);
    expect(call.keys.at(-1)).toBe(keys.result("default", "m1"));
  });

  it("brings the queue's spent memos last, with their count before the publish mode", () => {
    const spent = ["p:{default}:memo:a", "p:{default}:memo:b"];
    const call = buildSettleCalls(
      keys,
      [{ kind: "ack", delivery: delivery("m1") }],
      10,
      () => "c",
      "p",
      (queue) => (queue === "default" ? spent : []),
    ).calls[0]!;
    expect(call.keys.slice(-2)).toEqual(spent);
    expect(call.keys[13]).toBe(keys.queue("default").memo("c"));
    expect(call.args.slice(-2)).toEqual([2, "p"]);
  });
});

describeRedis("redis settle: cancel marks", () => {
  const t = brokerPerTest();

  const clock = (): Promise<Record<string, string>> =>
    t.admin.hgetall(`${t.prefix}:{default}:clock`);
  const marks = async (): Promise<string[]> =>
    Object.keys(await clock()).filter((f) => f === "cancels" || f.startsWith("cancel:"));

  it("clears a cancel mark and its count with the settlement, leaving other marks", async () => {
    await t.broker.enqueue([message({ id: "one" }), message({ id: "two" })]);
    const [a, b] = await t.broker.receive(["default"], { max: 2, leaseMs: 60_000 });
    expect(await t.broker.admin.cancel("default", "one")).toBe("cancelling");
    expect(await t.broker.admin.cancel("default", "one")).toBe("cancelling");
    expect(await t.broker.admin.cancel("default", "two")).toBe("cancelling");
    expect((await clock()).cancels).toBe("2");
    expect(await t.broker.settle([{ kind: "ack", delivery: a! }])).toEqual([true]);
    expect(await marks()).toEqual(expect.arrayContaining(["cancels", "cancel:two"]));
    expect((await clock()).cancels).toBe("1");
    expect(
      await t.broker.settle([{ kind: "dead", delivery: b!, error: { name: "E", message: "x" } }]),
    ).toEqual([true]);
    expect(await marks()).toEqual([]);
  });

  it("flush removes the marks of the running messages it removes", async () => {
    await t.broker.enqueue([message({ id: "one" })]);
    await t.broker.receive(["default"], { max: 1, leaseMs: 60_000 });
    await t.broker.admin.cancel("default", "one");
    expect(await marks()).toHaveLength(2);
    await t.broker.flushQueue("default");
    expect(await marks()).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import type { Delivery } from "../../src/brokers/broker.js";
import { LeaseKeeper } from "../../src/worker/run/lease-keeper.js";
import { message } from "../brokers/contract.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A delivery whose settlement the broker has applied, still held by a keeper. */
async function settledButHeld(
  settling: boolean,
): Promise<{ lost: Delivery[]; keeper: LeaseKeeper; renewed: Promise<void> }> {
  const broker = new InMemoryMessageBroker();
  await broker.connect();
  await broker.declareQueue("default");
  await broker.enqueue([message()]);
  const [d] = await broker.receive(["default"], { max: 1, leaseMs: 60_000 });
  const lost: Delivery[] = [];
  const keeper = new LeaseKeeper(
    broker,
    quiet,
    60_000,
    (x) => lost.push(x),
    () => {},
  );
  keeper.add([d!], Date.now());
  if (settling) keeper.settling(d!);
  // The settlement reaches the broker first; the renewal sent after it is refused.
  expect(await broker.settle([{ kind: "ack", delivery: d! }])).toEqual([true]);
  let resolveRenew!: () => void;
  const renewed = new Promise<void>((r) => (resolveRenew = r));
  const renew = broker.renew.bind(broker);
  broker.renew = async (...args) => {
    const out = await renew(...args);
    queueMicrotask(resolveRenew);
    return out;
  };
  keeper.tick();
  await renewed;
  await new Promise((r) => setImmediate(r));
  return { lost, keeper, renewed };
}

describe("LeaseKeeper: a renewal refused because the settlement was applied first (issue 13)", () => {
  it("is not a lost lease while the delivery's settlement is on its way", async () => {
    const { lost, keeper } = await settledButHeld(true);
    expect(lost).toHaveLength(0);
    expect(keeper.size).toBe(1); // released by the settlement's outcome, not by the renewal
  });

  it("is a lost lease when no settlement was sent", async () => {
    const { lost, keeper } = await settledButHeld(false);
    expect(lost).toHaveLength(1);
    expect(keeper.size).toBe(0);
  });
});

/**
 * What only the RabbitMQ broker has to show: the delay ladder (delays of 1 s and 10 s interleaved
 * arrive in due order, each within 1 s of due and never before), garbage published straight to a
 * queue is dead-lettered with a reason, a year-long delay sits in the ladder's highest levels, and
 * an amqplib connection can be handed in.
 */
import { connect } from "amqplib";
import { expect, it } from "vitest";
import { queueNames } from "../../src/brokers/rabbitmq/topology.js";
import { QueueNotDeclaredError } from "../../src/core/errors.js";
import { RabbitMessageBroker } from "../../src/rabbitmq.js";
import { message, waitFor } from "./contract.js";
import { describeRabbit, RABBITMQ_URL, testBroker } from "./rabbitmq-env.js";

describeRabbit("rabbitmq broker", () => {
  it("delays of 1 s and 10 s interleaved arrive in due order, each within 1 s of due", async () => {
    const { broker, cleanup } = testBroker();
    try {
      await broker.connect();
      await broker.declareQueue("default");
      const start = Date.now();
      const delays = [10_000, 1_000, 10_000, 1_000, 5_250, 1_500, 10_000, 1_000];
      // Due times 100 ms apart at least: the ladder orders by due time to its 10 ms unit (and a
      // few ms of hops), not by enqueue order among messages due together.
      const sent = delays.map((ms, i) =>
        message({ topic: `d${i}`, executeAt: start + ms + i * 100 }),
      );
      // One at a time, so that each has its own enqueue order.
      for (const m of sent) await broker.enqueue([m]);
      expect((await broker.counts("default")).delayed).toBe(delays.length);
      const arrived: { topic: string; at: number; due: number }[] = [];
      while (arrived.length < sent.length) {
        for (const d of await broker.receive(["default"], { max: 10, leaseMs: 60_000 })) {
          arrived.push({ topic: d.message.topic, at: Date.now(), due: d.message.executeAt! });
          await broker.settle([{ kind: "ack", delivery: d }]);
        }
      }
      const expected = [...sent].sort((a, b) => a.executeAt! - b.executeAt!).map((m) => m.topic);
      expect(arrived.map((a) => a.topic)).toEqual(expected);
      for (const a of arrived) {
        expect(a.at).toBeGreaterThanOrEqual(a.due);
        expect(a.at - a.due).toBeLessThan(1000);
      }
    } finally {
      await cleanup();
    }
  }, 30_000);

  it("dead-letters garbage published straight to the queue, with the reason and the raw body", async () => {
    const { broker, prefix, cleanup } = testBroker();
    try {
      await broker.connect();
      await broker.declareQueue("default");
      const model = await connect(RABBITMQ_URL);
      const ch = await model.createConfirmChannel();
      const main = queueNames(prefix, "default").main;
      ch.sendToQueue(main, Buffer.from("not json at all"), { messageId: "garbage-1" });
      ch.sendToQueue(main, Buffer.from(JSON.stringify({ hello: "world" })));
      await ch.waitForConfirms();
      await model.close();
      const good = message({ topic: "good" });
      await broker.enqueue([good]);
      // The receiver sorts the garbage out and hands over only the real message.
      const got = await broker.receive(["default"], { max: 10, leaseMs: 60_000 });
      expect(got.map((d) => d.message.id)).toEqual([good.id]);
      await waitFor(async () => (await broker.counts("default")).dead === 2);
      const dead = await broker.deadLetters("default");
      expect(dead.map((d) => d.error.code)).toEqual(["MALFORMED", "MALFORMED"]);
      expect(dead.map((d) => d.message.payload)).toEqual([
        "not json at all",
        JSON.stringify({ hello: "world" }),
      ]);
      expect(dead[0]!.message.id).toBe("garbage-1");
      expect(dead[0]!.failedAt).toBeGreaterThan(0);
      // Listing does not take them: they are still there, in order.
      expect((await broker.deadLetters("default", { limit: 1 }))[0]!.message.id).toBe("garbage-1");
      expect((await broker.counts("default")).dead).toBe(2);
    } finally {
      await cleanup();
    }
  });

  it("holds a delay of a year in the ladder, and flushing empties it", async () => {
    const { broker, cleanup } = testBroker();
    try {
      await broker.connect();
      await broker.declareQueue("default");
      const year = 365 * 24 * 3_600_000;
      await broker.enqueue([message({ executeAt: Date.now() + year })]);
      expect(await broker.counts("default")).toMatchObject({ ready: 0, delayed: 1 });
      await broker.flushQueue("default");
      expect(await broker.counts("default")).toMatchObject({ ready: 0, delayed: 0 });
    } finally {
      await cleanup();
    }
  });

  it("a waiting receive fails with QueueNotDeclaredError when another process deletes its queue", async () => {
    const { broker, prefix, cleanup } = testBroker();
    const other = testBroker({ prefix });
    try {
      await broker.connect();
      await other.broker.connect();
      await broker.declareQueue("default");
      const waiting = broker
        .receive(["default"], { max: 1, leaseMs: 60_000 })
        .catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 100));
      await other.broker.deleteQueue("default");
      expect(await waiting).toBeInstanceOf(QueueNotDeclaredError);
    } finally {
      await other.broker.disconnect();
      await cleanup();
    }
  });

  it("works on an amqplib connection handed in, and leaves it open", async () => {
    const model = await connect(RABBITMQ_URL);
    const { prefix, cleanup } = testBroker();
    const broker = new RabbitMessageBroker(model, { prefix });
    try {
      await broker.connect();
      await broker.declareQueue("default");
      await broker.enqueue([message({ id: "via-given" })]);
      const [d] = await broker.receive(["default"], { max: 1, leaseMs: 60_000 });
      expect(d!.message.id).toBe("via-given");
      expect(await broker.settle([{ kind: "ack", delivery: d! }])).toEqual([true]);
      await broker.deleteQueue("default");
      await broker.disconnect();
      // Still usable by its owner.
      const ch = await model.createChannel();
      await ch.close();
    } finally {
      await model.close();
      await cleanup();
    }
  });
});

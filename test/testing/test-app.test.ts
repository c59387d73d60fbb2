/** repid/testing's own edges, beyond what the example app's tests show. */
import { Job, Queue, Router, type Connection } from "repid";
import { createTestApp } from "repid/testing";
import { describe, expect, it } from "vitest";

describe("createTestApp", () => {
  it("a child job enqueued and awaited inside an actor runs inline too, without waiting on its parent", async () => {
    const order: string[] = [];
    const router = new Router();
    let connection: Connection | undefined;
    router.actor(async function child(args: { n: number }) {
      order.push(`child ${args.n}`);
    });
    router.actor(async function parent() {
      order.push("parent start");
      await new Job("child", { args: { n: 1 }, connection: connection! }).enqueue();
      order.push("parent end");
    });
    const testing = await createTestApp({ routers: [router] });
    connection = testing.connection;
    await testing.magic(() => new Job("parent").enqueue());
    expect(order).toEqual(["parent start", "child 1", "parent end"]);
    expect(testing.messages().map((m) => m.actor)).toEqual(["parent", "child"]);
    await testing.close();
  });

  it("after close(), an enqueue is recorded and returns without waiting for a worker", async () => {
    const router = new Router();
    router.actor(async function noop() {});
    const testing = await createTestApp({ routers: [router] });
    await testing.close();
    await testing.magic(async () => {
      await new Job("noop").enqueue();
      expect(await new Queue().counts()).toMatchObject({ ready: 1 });
    });
    expect(testing.messages("noop")).toHaveLength(1);
  });
});

import { describe, expect, it } from "vitest";
import { InvalidOptionError, Router, Worker, defaultRetryPolicy } from "../../src/index.js";
import { recordingLogger } from "../helpers.js";

describe("Router", () => {
  it("returns the registered function unchanged and still callable", async () => {
    const router = new Router();
    async function my_awesome_function(): Promise<string> {
      return "Hello Repid!";
    }
    const same = router.actor(my_awesome_function);
    expect(same).toBe(my_awesome_function);
    expect(await same()).toBe("Hello Repid!");
    const withOptions = router.actor({ name: "other" }, my_awesome_function);
    expect(withOptions).toBe(my_awesome_function);
  });

  it("names an actor after its function unless a name is given", () => {
    const router = new Router();
    router.actor(async function my_awesome_function() {});
    router.actor({ name: "another_name" }, async function renamed() {});
    expect([...router.actors.keys()]).toEqual(["my_awesome_function", "another_name"]);
  });

  it("listens on the default queue unless another is given", () => {
    const router = new Router();
    router.actor(async function a() {});
    router.actor({ queue: "another_queue" }, async function b() {});
    expect(router.actors.get("a")!.queue).toBe("default");
    expect(router.actors.get("b")!.queue).toBe("another_queue");
  });

  it("runs async functions on the event loop and sync ones in a thread or a process", () => {
    const router = new Router();
    router.actor(async function asyncOne() {});
    router.actor(function syncOne() {});
    router.actor({ runInProcess: true }, function inProcess() {});
    expect(router.actors.get("asyncOne")!.mode).toBe("async");
    expect(router.actors.get("syncOne")!.mode).toBe("thread");
    expect(router.actors.get("inProcess")!.mode).toBe("process");
    expect(router.actors.get("syncOne")!.module).toMatch(/router\.test\.ts$/);
  });

  it("uses the default retry policy unless given one", () => {
    const router = new Router();
    const custom = (n: number): number => n * 100;
    router.actor(async function a() {});
    router.actor({ retryPolicy: custom }, async function b() {});
    expect(router.actors.get("a")!.retryPolicy).toBe(defaultRetryPolicy);
    expect(router.actors.get("b")!.retryPolicy).toBe(custom);
  });

  it("rejects bad actor options with typed errors", () => {
    const router = new Router();
    const bad: [() => unknown, string][] = [
      [() => router.actor(() => {}), "name"],
      [() => router.actor({ name: "" }, async function x() {}), "name"],
      [() => router.actor({ queue: "" }, async function x() {}), "queue"],
      [() => router.actor({ retryPolicy: 5 as never }, async function x() {}), "retryPolicy"],
      [() => router.actor({ runInProcess: true }, async function x() {}), "runInProcess"],
      [
        () => router.actor({ timeout: "forever" as never }, async function x() {}),
        "INVALID_DURATION",
      ],
      [() => router.actor({ nmae: "x" } as never, async function x() {}), "nmae"],
      [() => router.actor({}, undefined as never), "fn"],
    ];
    for (const [make, detail] of bad) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      const e = error as { option?: string; code?: string };
      expect(e?.option ?? e?.code, detail).toBe(detail);
    }
    expect(() => router.actor({ name: "" }, async function x() {})).toThrow(InvalidOptionError);
  });
});

describe("Worker as a router", () => {
  it("takes actors directly, from routers and from includeRouter", () => {
    const router = new Router();
    const other = new Router();
    router.actor(async function one() {});
    other.actor(async function two() {});
    const a = new Worker({ routers: [router, other] });
    a.actor(async function three() {});
    const b = new Worker();
    b.includeRouter(router).includeRouter(other);
    expect([...a.actors.keys()].sort()).toEqual(["one", "three", "two"]);
    expect([...b.actors.keys()].sort()).toEqual(["one", "two"]);
  });

  it("replaces an actor registered under an existing name and warns", () => {
    const logger = recordingLogger();
    const router = new Router();
    const other = new Router();
    const first = async function same(): Promise<number> {
      return 1;
    };
    const second = async function same(): Promise<number> {
      return 2;
    };
    router.actor(first);
    other.actor(second);
    const worker = new Worker({ routers: [router, other], logger });
    expect(worker.actors.get("same")!.fn).toBe(second);
    expect(logger.lines.filter((l) => l.level === "warn").map((l) => l.message)).toEqual([
      expect.stringMatching(/"same" registered twice/),
    ]);
  });

  it("rejects bad worker options with typed errors", () => {
    expect(() => new Worker({ messagesLimit: 0 })).toThrow(InvalidOptionError);
    expect(() => new Worker({ concurrency: -1 })).toThrow(InvalidOptionError);
    expect(() => new Worker({ gracefulShutdownTime: "later" as never })).toThrow(
      /Invalid duration/,
    );
    expect(() => new Worker({ routers: [{} as Router] })).toThrow(InvalidOptionError);
    expect(() => new Worker({ handleSignals: "SIGINT" as never })).toThrow(InvalidOptionError);
    expect(() => new Worker({ concurency: 5 } as never)).toThrow(InvalidOptionError);
  });
});

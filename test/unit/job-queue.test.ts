import { describe, expect, it } from "vitest";
import {
  Connection,
  InMemoryMessageBroker,
  InvalidDurationError,
  InvalidOptionError,
  Job,
  NoConnectionError,
  Priority,
  Queue,
  QueueNotDeclaredError,
  RepidError,
  Repid,
  enqueueMany,
} from "../../src/index.js";
import { memoryApp } from "../helpers.js";

describe("Job", () => {
  it("needs only a name and defaults everything else as repid does", () => {
    const job = new Job("my_awesome_job");
    expect(job.name).toBe("my_awesome_job");
    expect(job.queue).toBeInstanceOf(Queue);
    expect(job.queue.name).toBe("default");
    expect(job.priority).toBe(Priority.MEDIUM);
    expect(job.retries).toBe(0);
    expect(job.timeoutMs).toBe(10 * 60_000);
    expect(job.id).toBeUndefined();
    expect(job.isUnique).toBe(false);
  });

  it("turns a queue name into a Queue and keeps a Queue as given", () => {
    const a = new Job("my_awesome_job", { queue: "non-default-queue" });
    const q = new Queue("another-queue");
    const b = new Job("another_job", { queue: q });
    expect(a.queue).toBeInstanceOf(Queue);
    expect(a.queue.name).toBe("non-default-queue");
    expect(b.queue).toBe(q);
  });

  it("accepts priorities from the const object and as strings", () => {
    expect(new Job("j", { priority: Priority.HIGH }).priority).toBe("high");
    expect(new Job("j", { priority: "low" }).priority).toBe(Priority.LOW);
  });

  it("is unique exactly when an id is given", () => {
    expect(new Job("non_unique_job").isUnique).toBe(false);
    expect(new Job("unique_job", { id: "my_unique_id" }).isUnique).toBe(true);
  });

  it("takes durations as milliseconds or strings", () => {
    expect(new Job("very_fast_job", { timeout: "5s" }).timeoutMs).toBe(5000);
    expect(new Job("very_slow_job", { timeout: "2h" }).timeoutMs).toBe(7_200_000);
    expect(new Job("ms", { timeout: 250 }).timeoutMs).toBe(250);
    expect(new Job("ms", { timeout: "500ms" }).timeoutMs).toBe(500);
  });

  it("rejects bad options with typed errors", () => {
    const cases: [() => unknown, typeof RepidError, string][] = [
      [() => new Job(""), InvalidOptionError, "name"],
      [() => new Job("   "), InvalidOptionError, "name"],
      [() => new Job(42 as unknown as string), InvalidOptionError, "name"],
      [() => new Job("j", { retries: -1 }), InvalidOptionError, "retries"],
      [() => new Job("j", { retries: 1.5 }), InvalidOptionError, "retries"],
      [() => new Job("j", { retries: "3" as unknown as number }), InvalidOptionError, "retries"],
      [
        () => new Job("j", { timeout: "5 parsecs" as never }),
        InvalidDurationError,
        "INVALID_DURATION",
      ],
      [() => new Job("j", { timeout: -5 }), InvalidDurationError, "INVALID_DURATION"],
      [() => new Job("j", { timeout: 0 }), InvalidOptionError, "timeout"],
      [() => new Job("j", { priority: "urgent" as Priority }), InvalidOptionError, "priority"],
      [() => new Job("j", { id: "" }), InvalidOptionError, "id"],
      [() => new Job("j", { queue: "" }), InvalidOptionError, "queue"],
      [() => new Job("j", { queue: "a b{c}" }), InvalidOptionError, "queue"],
      [() => new Job("j", { queue: 7 as unknown as string }), InvalidOptionError, "queue"],
      [() => new Job("j", { retires: 3 } as never), InvalidOptionError, "retires"],
      [() => new Job("j", { args: { n: 10n } }), InvalidOptionError, "args"],
      [() => new Job("j", { cron: "not a cron" }), InvalidOptionError, "cron"],
      [() => new Job("j", { ttl: 0 }), InvalidOptionError, "ttl"],
      [() => new Job("j", { dedupe: "1m" }), InvalidOptionError, "dedupe"],
      [() => new Job("j", { id: "x", dedupe: 0 }), InvalidOptionError, "dedupe"],
      [
        () => new Job("j", { id: "x", dedupe: "1m", cron: "* * * * *" }),
        InvalidOptionError,
        "dedupe",
      ],
      [() => new Job("j", { ttl: "soon" as never }), InvalidDurationError, "INVALID_DURATION"],
      [() => new Job("j", { ttl: "1h", cron: "* * * * *" }), InvalidOptionError, "ttl"],
      [
        () => new Job("j", { ttl: "1h", recurring: true, deferBy: "1s" }),
        InvalidOptionError,
        "ttl",
      ],
    ];
    for (const [make, type, detail] of cases) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(error, detail).toBeInstanceOf(type);
      const e = error as RepidError & { option?: string };
      expect(e.option ?? e.code, detail).toBe(detail);
    }
  });

  it("refuses a cron that never fires and a recurring interval under 100 ms (issue 24)", () => {
    for (const cron of ["0 0 30 2 *", "0 0 31 4 *"]) {
      expect(() => new Job("j", { cron }), cron).toThrow(/never fires: no date matches it/);
    }
    expect(new Job("j", { cron: "0 0 29 2 *" }).schedule).toEqual({ cron: "0 0 29 2 *" });
    const fast = (): Job => new Job("j", { recurring: true, deferBy: 1 });
    expect(fast).toThrow(InvalidOptionError);
    expect(fast).toThrow(/1 ms runs the job 1000 times a second.*shortInterval: true/);
    expect(new Job("j", { recurring: true, deferBy: 1, shortInterval: true }).schedule).toEqual({
      everyMs: 1,
    });
    expect(new Job("j", { recurring: true, deferBy: 100 }).schedule).toEqual({ everyMs: 100 });
    expect(new Job("j", { deferBy: 1 }).schedule).toBeUndefined();
  });
});

describe("enqueue", () => {
  it("fails on an undeclared queue, naming it and saying to declare it", async () => {
    const { app } = memoryApp();
    await app.magic(async () => {
      const j = new Job("my_awesome_job");
      const error = await j.enqueue().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueNotDeclaredError);
      expect((error as QueueNotDeclaredError).code).toBe("QUEUE_NOT_DECLARED");
      expect((error as Error).message).toMatch(/"default"/);
      expect((error as Error).message).toMatch(/declare\(\)/);
    });
  });

  it("succeeds once the job's queue is declared", async () => {
    const { app, broker } = memoryApp();
    await app.magic(async () => {
      const j = new Job("my_awesome_job");
      await j.queue.declare();
      const handle = await j.enqueue();
      expect(handle.created).toBe(true);
      expect((await broker.counts("default")).ready).toBe(1);
    });
  });

  it("gives a non-unique job a fresh 32-hex id on every enqueue", async () => {
    const { app } = memoryApp();
    await app.magic(async () => {
      await new Queue().declare();
      const j = new Job("j");
      const a = await j.enqueue();
      const b = await j.enqueue();
      expect(a.id).toMatch(/^[0-9a-f]{32}$/);
      expect(b.id).toMatch(/^[0-9a-f]{32}$/);
      expect(a.id).not.toBe(b.id);
      expect((await new Queue().counts()).ready).toBe(2);
    });
  });

  it("adds one message for a unique job enqueued twice", async () => {
    const { app } = memoryApp();
    await app.magic(async () => {
      await new Queue().declare();
      const j = new Job("unique_job", { id: "my_unique_id" });
      const a = await j.enqueue();
      const b = await j.enqueue();
      expect([a.id, a.created, b.id, b.created]).toEqual([
        "my_unique_id",
        true,
        "my_unique_id",
        false,
      ]);
      expect((await new Queue().counts()).ready).toBe(1);
    });
  });

  it("enqueues many jobs in one call", async () => {
    const { app } = memoryApp();
    await app.magic(async () => {
      await new Queue().declare();
      const handles = await enqueueMany([
        new Job("a"),
        new Job("b", { id: "b1" }),
        new Job("b", { id: "b1" }),
      ]);
      expect(handles.map((h) => h.created)).toEqual([true, true, false]);
      expect((await new Queue().counts()).ready).toBe(2);
    });
  });

  it("throws NoConnectionError outside magic() without an explicit connection", async () => {
    await expect(new Job("j").enqueue()).rejects.toBeInstanceOf(NoConnectionError);
    await expect(new Queue().declare()).rejects.toBeInstanceOf(NoConnectionError);
  });

  it("uses an explicit connection outside magic()", async () => {
    const connection = new Connection(new InMemoryMessageBroker());
    await new Queue("default", { connection }).declare();
    const handle = await new Job("j", { connection }).enqueue();
    expect(handle.created).toBe(true);
    await connection.disconnect();
  });
});

describe("Queue", () => {
  it("declares default and named queues; re-declaring has no effect", async () => {
    const { app } = memoryApp();
    await app.magic(async () => {
      await new Queue().declare();
      await new Queue("my_awesome_queue").declare();
      await new Job("j", { queue: "my_awesome_queue" }).enqueue();
      await new Queue("my_awesome_queue").declare();
      expect(new Queue().name).toBe("default");
      expect(await new Queue("my_awesome_queue").counts()).toEqual({
        ready: 1,
        delayed: 0,
        running: 0,
        dead: 0,
      });
    });
  });

  it("flushes and deletes", async () => {
    const { app } = memoryApp();
    await app.magic(async () => {
      const q = new Queue("q");
      await q.declare();
      await new Job("j", { queue: q }).enqueue();
      await q.flush();
      expect((await q.counts()).ready).toBe(0);
      expect(await q.exists()).toBe(true);
      await q.delete();
      expect(await q.exists()).toBe(false);
      await expect(new Job("j", { queue: q }).enqueue()).rejects.toBeInstanceOf(
        QueueNotDeclaredError,
      );
    });
  });
});

describe("Repid.magic", () => {
  it("connects, makes the connection ambient, and disconnects when asked", async () => {
    const { app, connection } = memoryApp();
    expect(connection.isConnected).toBe(false);
    const result = await app.magic(async () => {
      expect(connection.isConnected).toBe(true);
      return 42;
    });
    expect(result).toBe(42);
    expect(connection.isConnected).toBe(true);
    await app.magic(async () => {}, { autoDisconnect: true });
    expect(connection.isConnected).toBe(false);
  });

  it("keeps two apps apart in concurrent scopes", async () => {
    const one = memoryApp();
    const two = memoryApp();
    await Promise.all([
      one.app.magic(async () => {
        await new Queue("only-one").declare();
      }),
      two.app.magic(async () => {
        await new Queue("only-two").declare();
      }),
    ]);
    expect(await one.broker.queueExists("only-one")).toBe(true);
    expect(await one.broker.queueExists("only-two")).toBe(false);
    expect(await two.broker.queueExists("only-two")).toBe(true);
  });

  it("accepts a Repid built from the seed's one-liner", () => {
    const app = new Repid(new Connection(new InMemoryMessageBroker()));
    expect(app.connection.broker).toBeInstanceOf(InMemoryMessageBroker);
  });
});

describe("ttl (issue 26)", () => {
  it("sends expiresAt = due time + ttl: from now, or from the deferred due time", () => {
    const now = 1_000_000;
    expect(new Job("j", { ttl: "1m" }).toMessage(now).expiresAt).toBe(now + 60_000);
    expect(new Job("j", { ttl: "1m", deferBy: "10s" }).toMessage(now).expiresAt).toBe(now + 70_000);
    expect(new Job("j").toMessage(now).expiresAt).toBeUndefined();
  });
});

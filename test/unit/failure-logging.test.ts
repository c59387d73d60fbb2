import { describe, expect, it } from "vitest";
import {
  Connection,
  InMemoryMessageBroker,
  Job,
  Queue,
  Repid,
  Worker,
  enqueueMany,
} from "../../src/index.js";
import { defaultLogger } from "../../src/core/logger.js";
import { recordingLogger } from "../helpers.js";

describe("default failure logging (issue 11)", () => {
  it("logs a failed attempt at warn and its dead letter at error, with id, actor, queue, attempt and error", async () => {
    const logger = recordingLogger();
    const app = new Repid(new Connection(new InMemoryMessageBroker(), { logger }));
    const worker = new Worker({ messagesLimit: 2, handleSignals: [] });
    worker.actor({ retryPolicy: () => 0 }, async function charge() {
      throw new TypeError("card declined");
    });
    await app.magic(async () => {
      await new Queue().declare();
      await new Job("charge", { id: "c-1", retries: 1 }).enqueue();
      await worker.run();
    });
    const failures = logger.lines.filter((l) => /charge/.test(l.message));
    expect(failures.map((l) => l.level)).toEqual(["warn", "error"]);
    expect(failures[0]!.message).toMatch(
      /job "c-1" \(actor "charge", queue "default", attempt 1\) failed and will be retried: TypeError: card declined/,
    );
    expect(failures[1]!.message).toMatch(
      /job "c-1" \(actor "charge", queue "default", attempt 2\) was dead-lettered: TypeError: card declined/,
    );
  });

  it("summarises repeats of the same failure instead of flooding", async () => {
    const logger = recordingLogger();
    const app = new Repid(new Connection(new InMemoryMessageBroker(), { logger }));
    const worker = new Worker({ messagesLimit: 50, handleSignals: [] });
    worker.actor(async function poison() {
      throw new Error("bad batch");
    });
    await app.magic(async () => {
      await new Queue().declare();
      await enqueueMany(Array.from({ length: 50 }, () => new Job("poison", { retries: 0 })));
      await worker.run();
    });
    const lines = logger.lines.filter((l) => /poison/.test(l.message));
    expect(lines).toHaveLength(2);
    expect(lines[0]!.message).toMatch(/was dead-lettered: Error: bad batch/);
    expect(lines[1]!.message).toMatch(/49 more job\(s\) of actor "poison" were dead-lettered/);
  });

  it("a throwing hook is logged once and the job is unaffected", async () => {
    const logger = recordingLogger();
    const app = new Repid(
      new Connection(new InMemoryMessageBroker(), {
        logger,
        hooks: [
          {
            onEvent() {
              throw new Error("metrics backend down");
            },
          },
        ],
      }),
    );
    const worker = new Worker({ messagesLimit: 3, handleSignals: [] });
    let runs = 0;
    worker.actor(async function fine() {
      runs++;
    });
    const runner = await app.magic(async () => {
      await new Queue().declare();
      await enqueueMany([new Job("fine"), new Job("fine"), new Job("fine")]);
      return worker.run();
    });
    expect(runs).toBe(3);
    expect(runner).toMatchObject({ processed: 3, succeeded: 3 });
    const hookLines = logger.lines.filter((l) => /onEvent hook threw/.test(l.message));
    expect(hookLines).toHaveLength(1);
    expect(hookLines[0]!.level).toBe("error");
  });

  it("the default logger shows warnings and errors (and drops debug/info)", () => {
    const written: unknown[][] = [];
    const [warn, error] = [console.warn, console.error];
    console.warn = (...args: unknown[]) => void written.push(["warn", ...args]);
    console.error = (...args: unknown[]) => void written.push(["error", ...args]);
    try {
      defaultLogger.debug("d");
      defaultLogger.info("i");
      defaultLogger.warn("w", { id: "1" });
      defaultLogger.error("e");
    } finally {
      console.warn = warn;
      console.error = error;
    }
    expect(written).toEqual([
      ["warn", "w", { id: "1" }],
      ["error", "e"],
    ]);
  });
});

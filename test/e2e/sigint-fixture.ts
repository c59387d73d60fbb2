// A worker with the default signal handling whose only job runs until the test writes "finish"
// to its stdin (or until the worker aborts it): the test decides when the job may end, so that
// what a signal did is seen in the counts, whatever the timing. Logs go to stdout, one a line.
import { Connection, InMemoryMessageBroker, Job, Queue, Repid, Worker, type Logger } from "repid";

const log = (message: string): void => void process.stdout.write(`${message}\n`);
const logger: Logger = { debug: log, info: log, warn: log, error: log };
const finished = new Promise<void>((resolve) =>
  process.stdin.on("data", (d: Buffer) => d.toString().includes("finish") && resolve()),
);

const app = new Repid(new Connection(new InMemoryMessageBroker(), { logger }));
const worker = new Worker({ gracefulShutdownTime: "60s" });
// IGNORE_SIGNAL=1: an actor that ignores ctx.signal and holds the process with a timer.
const ignores = process.env["IGNORE_SIGNAL"] === "1";
worker.actor(async function wait_for_test(_: unknown, ctx) {
  log("started");
  if (ignores) {
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    log("actor ended");
    return;
  }
  await Promise.race([
    finished,
    new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)),
  ]);
});

const runner = await app.magic(async () => {
  await new Queue().declare();
  await new Job("wait_for_test").enqueue();
  return worker.run();
});
log(JSON.stringify({ runner }));
process.stdin.destroy();

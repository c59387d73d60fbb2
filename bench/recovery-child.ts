/**
 * A worker process for the recovery scenario: runs `hold` jobs that wait (until killed), and
 * prints `start <id>` when each begins. argv: system (repid|bullmq), url, queue, concurrency.
 */
import { Worker as BullWorker } from "bullmq";
import { Redis } from "ioredis";
import { Connection, Repid, Worker, silentLogger, type ActorContext } from "repid";
import { RedisMessageBroker } from "repid/redis";

const [system, url, queue, concurrency] = process.argv.slice(2) as [string, string, string, string];
const say = (line: string): void => void process.stdout.write(`${line}\n`);

if (system === "repid") {
  const app = new Repid(
    new Connection(new RedisMessageBroker(url, { prefix: "repid-bench" }), {
      logger: silentLogger,
    }),
  );
  const worker = new Worker({ concurrency: Number(concurrency), prefetch: 0 });
  worker.actor({ queue }, async function hold(_args: unknown, ctx: ActorContext) {
    say(`start ${ctx.jobId}`);
    await new Promise((resolve) => setTimeout(resolve, 120_000));
  });
  say("ready");
  await app.magic(() => worker.run());
} else {
  const worker = new BullWorker(
    queue,
    async (job) => {
      say(`start ${job.id}`);
      await new Promise((resolve) => setTimeout(resolve, 120_000));
    },
    {
      connection: new Redis(url, { maxRetriesPerRequest: null }),
      prefix: "bull-bench",
      concurrency: Number(concurrency),
    },
  );
  await worker.waitUntilReady();
  say("ready");
}

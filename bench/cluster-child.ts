/**
 * One worker process of the cluster benchmark (bench/cluster.ts): connects, says "ready", starts
 * processing no-op jobs of the given queues on "go", stops on "stop".
 *   argv: system (repid | bullmq), url (one Redis, or comma-separated cluster nodes), queues
 *   (comma-separated), concurrency, prefix
 */
import { Worker as BullWorker } from "bullmq";
import { Redis } from "ioredis";
import { Connection, Worker } from "repid";
import { RedisMessageBroker } from "repid/redis";

const [system, url, queueList, concurrencyArg, prefix] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const queues = queueList.split(",");
const concurrency = Number(concurrencyArg);
const send = (m: unknown): void => void process.send!(m);

if (system === "repid") {
  const connection = new Connection(new RedisMessageBroker(url, { prefix }));
  await connection.connect();
  const worker = new Worker({ connection, concurrency, handleSignals: [] });
  for (const q of queues) worker.actor({ queue: q, name: `noop_${q}` }, async function noop() {});
  process.on("message", (m: string) => {
    if (m === "go") void worker.run();
    if (m === "stop") {
      worker.stop();
      void connection.disconnect().finally(() => process.exit(0));
    }
  });
} else {
  // BullMQ: one Worker per queue, the process's concurrency shared among them.
  const workers = queues.map(
    (q) =>
      new BullWorker(q, async () => {}, {
        connection: new Redis(url, { maxRetriesPerRequest: null }),
        prefix,
        concurrency: Math.max(1, Math.round(concurrency / queues.length)),
        autorun: false,
      }),
  );
  process.on("message", (m: string) => {
    if (m === "go") for (const w of workers) void w.run();
    if (m === "stop")
      void Promise.all(workers.map((w) => w.close())).finally(() => process.exit(0));
  });
}
send("ready");

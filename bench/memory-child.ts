/** Processes `count` pre-filled no-op jobs with a repid worker and reports RSS every 10,000. */
import { Connection, Worker } from "repid";
import { RedisMessageBroker } from "repid/redis";

const [url, queueName, countText] = process.argv.slice(2) as [string, string, string];
const count = Number(countText);
const samples: { rss: number; heapUsed: number }[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
let done = 0;
const connection = new Connection(new RedisMessageBroker(url, { prefix: "repid-bench" }));
const worker = new Worker({
  connection,
  concurrency: 100,
  messagesLimit: count,
  handleSignals: [],
});
worker.actor({ queue: queueName }, async function noop() {
  if (++done % 10_000 !== 0) return;
  gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  samples.push({ rss, heapUsed });
});
await worker.run();
await connection.disconnect();
process.send!({ samples }, () => process.exit(0));

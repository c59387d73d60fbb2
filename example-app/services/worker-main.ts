/** The worker as its own process, on Redis: `REDIS_URL=redis://... tsx example-app/services/worker-main.ts`. */
import { Connection } from "repid";
import { RedisMessageBroker } from "repid/redis";
import { createWorker } from "./worker.js";

const url = process.env["REDIS_URL"];
if (!url) throw new Error("REDIS_URL is not set");
const prefix = process.env["REPID_EXAMPLE_PREFIX"] ?? "repid-example";
const connection = new Connection(new RedisMessageBroker(url, { prefix }));
const worker = createWorker({ connection, handleSignals: ["SIGINT", "SIGTERM"] });
process.stderr.write("worker: running\n");
const runner = await worker.run();
process.stderr.write(`worker: stopped after ${runner.processed} message(s)\n`);
await connection.disconnect();

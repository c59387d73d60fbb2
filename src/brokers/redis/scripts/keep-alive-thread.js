// keep-alive-thread.js: a worker thread that keeps one consumer's heartbeat alive over its own
// Redis connection, so that a main event loop blocked by a user's code does not let it expire.
// Plain JavaScript on purpose: threads do not inherit a TypeScript loader (tsx) from the main
// thread. It runs heartbeat.lua (source and SHA passed in) every `intervalMs`, one call in flight
// at a time; it reports errors and recoveries to the main thread, which logs them, and stops on
// a "stop" message after its last call has answered.
import { parentPort, workerData } from "node:worker_threads";
import { Cluster, Redis } from "ioredis";

// `groups`: the key lists of the calls (each within one slot on a cluster); `cluster`: the nodes
// of a Redis Cluster, or undefined for one Redis.
const { options, cluster, groups, consumer, ttlMs, intervalMs, lua, sha } = workerData;

const client = cluster
  ? new Cluster(cluster, {
      lazyConnect: true,
      slotsRefreshInterval: 2000,
      redisOptions: { ...options, maxRetriesPerRequest: 1 },
    })
  : new Redis({ ...options, lazyConnect: true, maxRetriesPerRequest: 1 });
client.on("error", () => {}); // reported through the failing calls below
let inFlight;
let failing = false;
let started = false;

async function beat() {
  for (const part of groups) {
    try {
      await client.evalsha(sha, part.length, ...part, consumer, ttlMs);
    } catch (error) {
      if (!String(error && error.message).startsWith("NOSCRIPT")) throw error;
      await client.eval(lua, part.length, ...part, consumer, ttlMs);
    }
  }
}

function tick() {
  if (inFlight) return;
  inFlight = beat()
    .then(
      () => {
        if (!started) parentPort.postMessage({ type: "started" });
        else if (failing) parentPort.postMessage({ type: "recovered" });
        started = true;
        failing = false;
      },
      (error) => {
        failing = true;
        parentPort.postMessage({ type: "error", message: String(error && error.message) });
      },
    )
    .finally(() => (inFlight = undefined));
}

setInterval(tick, intervalMs);
tick();

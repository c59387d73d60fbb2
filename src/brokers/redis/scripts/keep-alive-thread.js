// keep-alive-thread.js: one worker thread per process that keeps the heartbeats of consumers
// alive over connections of its own, so that a main event loop blocked by a user's code does not
// let them expire. Plain JavaScript on purpose: threads do not inherit a TypeScript loader (tsx)
// from the main thread.
//
// Messages from the main thread:
//   { type: "add", id, spec }   spec: { options, clusterOptions, cluster, groups, consumer,
//                                ttlMs, intervalMs, lua, sha } (see keep-alive.ts)
//   { type: "remove", id }      stops that heartbeat once its call in flight has answered
// Messages to it, each with the id: "started" (first heartbeat written), "error" (a refresh
// failed; message), "recovered" (written again after errors), "removed".
//
// Each heartbeat has its own ioredis client made from the options of the broker's own client
// (one Redis, Sentinel, TLS, unix socket, ACL user, key prefix: whatever crossed into the
// thread; keep-alive.ts keeps the heartbeat on the main thread when an option cannot cross), or
// an ioredis Cluster for a cluster. ioredis loads once per process, with the first heartbeat.
import { parentPort } from "node:worker_threads";

const beats = new Map();
/** How long a removal waits for the refresh in flight. */
const REMOVE_WAIT_MS = 500;

/** An ioredis client for one heartbeat, made when first used. */
class ThreadClient {
  constructor(spec) {
    const timeoutMs = Math.max(1000, spec.ttlMs);
    // A heartbeat never waits in a queue: a call fails at once while disconnected, and one
    // without a reply within the time to live fails; the next tick tries again.
    const own = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      retryStrategy: () => 200,
    };
    this.made = import("ioredis").then(({ Redis, Cluster }) => {
      const client = spec.cluster
        ? new Cluster(spec.cluster, {
            ...spec.clusterOptions,
            lazyConnect: true,
            slotsRefreshInterval: 2000,
            enableOfflineQueue: false,
            redisOptions: { ...spec.options, ...own, lazyConnect: false },
          })
        : new Redis({ ...spec.options, ...own });
      client.on("error", () => {}); // reported through the failing calls
      return client;
    });
  }

  async call(args) {
    const client = await this.made;
    if (client.status === "wait") await client.connect();
    return client.call(...args);
  }

  close() {
    void this.made.then((client) => client.disconnect());
  }
}

class Heartbeat {
  constructor(id, spec) {
    this.id = id;
    this.spec = spec;
    this.client = new ThreadClient(spec);
    this.started = false;
    this.failing = false;
    this.inFlight = undefined;
    this.timer = setInterval(() => this.tick(), spec.intervalMs);
    this.tick();
  }

  async beat() {
    const { groups, consumer, ttlMs, lua, sha } = this.spec;
    for (const keys of groups) {
      try {
        await this.client.call(["EVALSHA", sha, keys.length, ...keys, consumer, ttlMs]);
      } catch (error) {
        if (!String(error && error.message).startsWith("NOSCRIPT")) throw error;
        await this.client.call(["EVAL", lua, keys.length, ...keys, consumer, ttlMs]);
      }
    }
  }

  tick() {
    if (this.inFlight) return;
    this.inFlight = this.beat()
      .then(
        () => {
          if (!this.started) post("started", this.id);
          else if (this.failing) post("recovered", this.id);
          this.started = true;
          this.failing = false;
        },
        (error) => {
          this.failing = true;
          post("error", this.id, String(error && error.message));
        },
      )
      .finally(() => (this.inFlight = undefined));
  }

  async remove() {
    clearInterval(this.timer);
    // A refresh already sent answers first, so that none lands after the removal; one that
    // takes longer (Redis unreachable) is abandoned: landing late, it only keeps the record
    // for one more time to live, which delays the recovery of leases, never takes a live one.
    let waited;
    const patience = new Promise((resolve) => (waited = setTimeout(resolve, REMOVE_WAIT_MS)));
    await Promise.race([this.inFlight, patience]);
    clearTimeout(waited);
    this.client.close();
  }
}

function post(type, id, message) {
  parentPort.postMessage(message === undefined ? { type, id } : { type, id, message });
}

parentPort.on("message", (m) => {
  if (m.type === "add") {
    beats.set(m.id, new Heartbeat(m.id, m.spec));
  } else if (m.type === "remove") {
    const beat = beats.get(m.id);
    beats.delete(m.id);
    if (!beat) post("removed", m.id);
    else void beat.remove().finally(() => post("removed", m.id));
  }
});

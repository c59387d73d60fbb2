// keep-alive-thread.js: one worker thread per process that keeps the heartbeats of Postgres
// consumers alive over connections of its own, so that a main event loop blocked by a user's
// code does not let them expire. Plain JavaScript on purpose: threads do not inherit a
// TypeScript loader (tsx) from the main thread.
//
// Messages from the main thread:
//   { type: "add", id, spec }   spec: { config, schema, consumer, ttlMs, intervalMs }
//   { type: "remove", id }      stops that heartbeat, deletes its record, answers "removed"
// Messages to it, each with the id: "started" (first heartbeat written), "error" (a refresh
// failed; message), "removed".
import { parentPort } from "node:worker_threads";

const beats = new Map();

class Heartbeat {
  constructor(id, spec) {
    this.id = id;
    this.spec = spec;
    this.started = false;
    this.inFlight = undefined;
    this.client = import("pg").then(({ default: pg }) => {
      // A heartbeat never waits long: one without a reply within the time to live fails, and
      // the next tick tries again on a fresh connection.
      const pool = new pg.Pool({
        ...spec.config,
        max: 1,
        connectionTimeoutMillis: Math.max(1000, spec.ttlMs),
        query_timeout: Math.max(1000, spec.ttlMs),
      });
      pool.on("error", () => {}); // reported through the failing calls
      return pool;
    });
    this.timer = setInterval(() => this.tick(), spec.intervalMs);
    this.tick();
  }

  async query(sql, values) {
    const pool = await this.client;
    return pool.query(sql, values);
  }

  tick() {
    if (this.inFlight) return;
    const { schema, consumer, ttlMs } = this.spec;
    this.inFlight = this.query(
      `INSERT INTO ${schema}.consumers (name, expires_at) VALUES ($1, ${schema}.now_ms() + $2)
         ON CONFLICT (name) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
      [consumer, ttlMs],
    )
      .then(
        () => {
          if (!this.started) post("started", this.id);
          this.started = true;
        },
        (error) => post("error", this.id, String(error && error.message)),
      )
      .finally(() => (this.inFlight = undefined));
  }

  async remove() {
    clearInterval(this.timer);
    // The refresh in flight answers first, so that none lands after the removal.
    await this.inFlight;
    const { schema, consumer } = this.spec;
    try {
      await this.query(`DELETE FROM ${schema}.consumers WHERE name = $1`, [consumer]);
    } finally {
      void this.client.then((pool) => pool.end());
    }
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
    else
      void beat.remove().then(
        () => post("removed", m.id),
        (error) => post("removed", m.id, String(error && error.message)),
      );
  }
});

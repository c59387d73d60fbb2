/**
 * The broker's LISTEN connection: one pooled client held for `LISTEN` on the schema's channels
 * (see ./channels.ts): ready queues, stored results and job updates. Idle receivers and result
 * waiters sleep on wakes registered here instead of polling, and update watchers hear each
 * update. When the connection drops, every waiter is woken (it looks again) and the connection
 * is opened again after a pause.
 */
import type pg from "pg";
import type { Logger } from "../../core/logger.js";
import { readyChannel, resultChannel, updateChannel, type UpdateNote } from "./channels.js";
import { WakeSets, type Wake } from "./wake.js";

const RETRY_MS = 500;

export class Notifications {
  readonly #pool: () => pg.Pool;
  readonly #ready: string;
  readonly #results: string;
  readonly #updates: string;
  readonly #logger: Logger;
  readonly #queues = new WakeSets();
  readonly #ids = new WakeSets();
  /** Job update listeners by queue and id. */
  readonly #watchers = new Map<string, Set<(note: UpdateNote) => void>>();
  #client: pg.PoolClient | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(pool: () => pg.Pool, schema: string, logger: Logger) {
    this.#pool = pool;
    this.#ready = readyChannel(schema);
    this.#results = resultChannel(schema);
    this.#updates = updateChannel(schema);
    this.#logger = logger;
  }

  get listening(): boolean {
    return this.#client !== undefined;
  }

  async start(): Promise<void> {
    this.#closed = false;
    if (this.#client) return;
    const client = await this.#pool().connect();
    client.on("notification", (n) => {
      if (n.channel === this.#ready) this.#queues.fire(n.payload ?? "");
      else if (n.channel === this.#results) this.#ids.fire(n.payload ?? "");
      else if (n.channel === this.#updates) this.#update(n.payload ?? "");
    });
    client.on("error", (error) => this.#lost(client, error));
    try {
      await client.query(
        `LISTEN "${this.#ready}"; LISTEN "${this.#results}"; LISTEN "${this.#updates}"`,
      );
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    if (this.#closed) {
      client.release();
      return;
    }
    this.#client = client;
  }

  async stop(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    this.#queues.fireAll();
    this.#ids.fireAll();
    if (!client) return;
    // A LISTENing session must not go back to the pool: its next user would get notifications.
    client.release(true);
  }

  /** `wake` fires on a ready notification of any of `queues` (or a reconnection). */
  onReady(queues: readonly string[], wake: Wake): () => void {
    return this.#queues.add(queues, wake);
  }

  /** `wake` fires when job `id`'s result is stored (or on a reconnection). */
  onResult(id: string, wake: Wake): () => void {
    return this.#ids.add([id], wake);
  }

  /** `listener` hears each update of job `id` of `queue`; call the returned function to stop. */
  onUpdate(queue: string, id: string, listener: (note: UpdateNote) => void): () => void {
    const key = `${queue}\0${id}`;
    let set = this.#watchers.get(key);
    if (!set) this.#watchers.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#watchers.get(key) === set) this.#watchers.delete(key);
    };
  }

  #update(payload: string): void {
    let note: UpdateNote;
    try {
      note = JSON.parse(payload) as UpdateNote;
    } catch {
      return;
    }
    const set = this.#watchers.get(`${note.q}\0${note.i}`);
    if (set) for (const listener of [...set]) listener(note);
  }

  #lost(client: pg.PoolClient, error: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.release(error);
    if (this.#closed) return;
    this.#logger.warn("repid: the Postgres LISTEN connection was lost; reopening it", {
      error: error.message,
    });
    this.#queues.fireAll();
    this.#ids.fireAll();
    this.#reopen();
  }

  #reopen(): void {
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      if (this.#closed) return;
      this.start().then(
        () => {
          // What was notified while nobody listened: everyone looks again.
          this.#queues.fireAll();
          this.#ids.fireAll();
        },
        () => this.#reopen(),
      );
    }, RETRY_MS);
    this.#retry.unref();
  }
}

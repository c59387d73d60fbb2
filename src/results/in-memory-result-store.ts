import type { ResultStore, StoredResult } from "../brokers/broker.js";
import { ResultStore as Results } from "../brokers/in-memory/result-store.js";

/**
 * Results in this process's memory, with their time to live; waiters are woken the moment a
 * result is stored. For tests and single-process apps on a broker without results.
 * @example new Connection(new RabbitMessageBroker(url), { results: new InMemoryResultStore() })
 */
export class InMemoryResultStore implements ResultStore {
  readonly #results = new Results();

  async connect(): Promise<void> {}

  async disconnect(): Promise<void> {
    this.#results.close();
  }

  async store(id: string, result: StoredResult, ttlMs: number): Promise<void> {
    this.#results.store(id, result, ttlMs);
  }

  async read(id: string): Promise<StoredResult | undefined> {
    return this.#results.read(id);
  }

  async delete(id: string): Promise<void> {
    this.#results.delete(id);
  }

  wait(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    return this.#results.wait(id, options);
  }
}

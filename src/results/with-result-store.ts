import type {
  BrokerCapabilities,
  DeadLetter,
  Delivery,
  EnqueueOutcome,
  KeepAlive,
  KeptResult,
  MessageBroker,
  OutgoingMessage,
  QueueCounts,
  ReceiveOptions,
  ResultStore,
  ScheduleInfo,
  Settlement,
  StoredResult,
} from "../brokers/broker.js";
import type { Logger } from "../core/logger.js";
import { capabilitiesOf } from "../brokers/broker.js";

/**
 * A broker whose results live in a separate `ResultStore`: every operation goes to the broker,
 * except results. A settlement's result is stored first, then the settlement (without it) goes
 * to the broker, so a crash between the two may store a result twice but never loses one.
 * `new Connection(broker, { results })` builds one; use it directly only outside a `Connection`.
 */
export class ResultStoreBroker implements MessageBroker {
  readonly inner: MessageBroker;
  readonly store: ResultStore;
  readonly capabilities: BrokerCapabilities;
  /** Removes a result from the store, when the store can. */
  readonly deleteResult: ((id: string) => Promise<void>) | undefined;
  readonly keepAlive?: (consumer: string, queues: readonly string[], ttlMs: number) => KeepAlive;

  constructor(inner: MessageBroker, store: ResultStore) {
    this.inner = inner;
    this.store = store;
    this.capabilities = { ...capabilitiesOf(inner), results: true };
    // Results live in the store: the broker's own deleteResult must not stand in for it.
    const remove = store.delete?.bind(store);
    this.deleteResult = remove && ((id: string) => remove(id));
    if (inner.keepAlive) {
      const keepAlive = inner.keepAlive.bind(inner);
      this.keepAlive = (consumer, queues, ttlMs) => keepAlive(consumer, queues, ttlMs);
    }
    // Optional members added to the contract later (admin operations, limits, job updates) stay
    // reachable, whether the broker holds them itself or its class defines them (bound to it).
    for (const key of Object.keys(inner) as (keyof MessageBroker)[]) {
      if (!(key in this)) Object.defineProperty(this, key, { value: inner[key], enumerable: true });
    }
    for (let proto = Object.getPrototypeOf(inner); proto && proto !== Object.prototype;) {
      for (const key of Object.getOwnPropertyNames(proto)) {
        const method = Object.getOwnPropertyDescriptor(proto, key)?.value;
        if (key in this || typeof method !== "function") continue;
        Object.defineProperty(this, key, { value: method.bind(inner), enumerable: true });
      }
      proto = Object.getPrototypeOf(proto);
    }
  }

  async connect(): Promise<void> {
    await Promise.all([this.inner.connect(), this.store.connect()]);
  }

  useLogger(logger: Logger): void {
    this.inner.useLogger?.(logger);
    this.store.useLogger?.(logger);
  }

  async disconnect(): Promise<void> {
    await Promise.all([this.inner.disconnect(), this.store.disconnect()]);
  }

  declareQueue(queue: string): Promise<void> {
    return this.inner.declareQueue(queue);
  }

  flushQueue(queue: string): Promise<void> {
    return this.inner.flushQueue(queue);
  }

  deleteQueue(queue: string): Promise<void> {
    return this.inner.deleteQueue(queue);
  }

  queueExists(queue: string): Promise<boolean> {
    return this.inner.queueExists(queue);
  }

  enqueue(messages: readonly OutgoingMessage[]): Promise<EnqueueOutcome[]> {
    return this.inner.enqueue(messages);
  }

  /** Results go to the store. */
  storeResult(id: string, result: KeptResult): Promise<void> {
    return this.store.store(id, result.stored, result.ttlMs);
  }

  schedules(queue: string): Promise<ScheduleInfo[]> {
    return this.inner.schedules(queue);
  }

  removeSchedule(queue: string, id: string): Promise<boolean> {
    return this.inner.removeSchedule(queue, id);
  }

  receive(queues: readonly string[], options: ReceiveOptions): Promise<Delivery[]> {
    return this.inner.receive(queues, options);
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    const kept = settlements.filter((s) => s.result !== undefined);
    if (kept.length === 0) return this.inner.settle(settlements);
    // Stored before the settlement: if it then is refused (a lost lease), the message runs
    // again and stores its result again; nothing is lost.
    await Promise.all(
      kept.map((s) => this.store.store(s.delivery.message.id, s.result!.stored, s.result!.ttlMs)),
    );
    return this.inner.settle(settlements.map(withoutResult));
  }

  renew(deliveries: readonly Delivery[], leaseMs: number): ReturnType<MessageBroker["renew"]> {
    return this.inner.renew(deliveries, leaseMs);
  }

  heartbeat(consumer: string, queues: readonly string[], ttlMs: number): Promise<void> {
    return this.inner.heartbeat(consumer, queues, ttlMs);
  }

  counts(queue: string): Promise<QueueCounts> {
    return this.inner.counts(queue);
  }

  deadLetters(queue: string, options?: { readonly limit?: number }): Promise<DeadLetter[]> {
    return this.inner.deadLetters(queue, options);
  }

  readResult(id: string): Promise<StoredResult | undefined> {
    return this.store.read(id);
  }

  waitForResult(
    id: string,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<StoredResult | undefined> {
    return this.store.wait(id, options);
  }
}

function withoutResult(s: Settlement): Settlement {
  if (s.result === undefined) return s;
  const { result: _result, ...rest } = s;
  return rest;
}

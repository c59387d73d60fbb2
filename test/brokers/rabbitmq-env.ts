/**
 * Where the RabbitMQ suites find their RabbitMQ: `RABBITMQ_URL` (default
 * amqp://guest:guest@127.0.0.1:5672). When none answers, the suites are skipped with a loud
 * message, except under `CI=true`, where they fail instead.
 */
import { randomUUID } from "node:crypto";
import { connect } from "amqplib";
import { afterAll } from "vitest";
import { describeService } from "./service-env.js";
import {
  RabbitMessageBroker,
  type RabbitBrokerOptions,
} from "../../src/brokers/rabbitmq/rabbitmq-broker.js";
import { deleteTopology, queueNames, type Task } from "../../src/brokers/rabbitmq/topology.js";

export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";

async function probe(): Promise<string | undefined> {
  try {
    const model = await connect(RABBITMQ_URL, { timeout: 2000 });
    await model.close();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const problem = await probe();

/** True when a RabbitMQ answered at RABBITMQ_URL. */
export const rabbitAvailable = problem === undefined;

/** `describe` for suites that need RabbitMQ: skipped loudly without one, failing under CI. */
export function describeRabbit(name: string, body: () => void): void {
  describeService(
    {
      name: "RabbitMQ",
      at: RABBITMQ_URL,
      problem,
      hint: "Start one (.ci/start-rabbitmq.sh) or set RABBITMQ_URL.",
    },
    name,
    () => {
      body();
      // Queues of finished tests are deleted while the next tests run; all are gone by the end.
      afterAll(() => Promise.all(deleting.splice(0)));
    },
  );
}

/** A prefix no other test uses. */
export function uniquePrefix(): string {
  return `repid-test-${randomUUID().slice(0, 8)}`;
}

/** Deletions started by cleanups, awaited at the end of the suite. */
const deleting: Promise<void>[] = [];

/** Queues declared under each prefix by the tests, to delete afterwards. */
const declared = new Map<string, Set<string>>();

/** A broker that remembers the queues it declared, for cleanup. */
class TestRabbitBroker extends RabbitMessageBroker {
  readonly #prefix: string;

  constructor(prefix: string, options: RabbitBrokerOptions) {
    super(RABBITMQ_URL, { ...options, prefix });
    this.#prefix = prefix;
  }

  override async declareQueue(queue: string): Promise<void> {
    let set = declared.get(this.#prefix);
    if (!set) declared.set(this.#prefix, (set = new Set()));
    set.add(queue);
    await super.declareQueue(queue);
  }
}

/** Deletes every queue and exchange the tests declared under `prefix`. */
export async function deletePrefix(prefix: string): Promise<void> {
  const queues = declared.get(prefix);
  declared.delete(prefix);
  if (!queues || queues.size === 0) return;
  const model = await connect(RABBITMQ_URL);
  try {
    const channels = await Promise.all(Array.from({ length: 8 }, () => model.createChannel()));
    const run = async (tasks: readonly Task[]): Promise<void> => {
      let next = 0;
      await Promise.all(
        channels.map(async (ch) => {
          while (next < tasks.length) await tasks[next++]!(ch);
        }),
      );
    };
    for (const queue of queues) await deleteTopology(run, queueNames(prefix, queue));
  } finally {
    await model.close();
  }
}

/** A broker under a fresh prefix, and a cleanup that deletes its queues and disconnects it. */
export function testBroker(options: RabbitBrokerOptions = {}): {
  broker: RabbitMessageBroker;
  prefix: string;
  cleanup: () => Promise<void>;
} {
  const prefix = options.prefix ?? uniquePrefix();
  const broker = new TestRabbitBroker(prefix, { leaseCheckIntervalMs: 50, ...options });
  return {
    broker,
    prefix,
    cleanup: async () => {
      await broker.disconnect();
      const deleted = deletePrefix(prefix);
      deleted.catch(() => undefined); // reported by the suite's afterAll
      deleting.push(deleted);
    },
  };
}

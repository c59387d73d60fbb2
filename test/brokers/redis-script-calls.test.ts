/**
 * The script calls reach Redis the same way whatever the client (issue 28): EVALSHA goes as a
 * Command built by the broker for a plain client, through ioredis's own `evalsha` for one that
 * pipelines automatically or keeps friendly error stacks; one call (an awaited enqueue) and a
 * pipeline of calls (an enqueue of more than one chunk) alike.
 */
import { Redis } from "ioredis";
import { expect, it } from "vitest";
import type { OutgoingMessage } from "../../src/brokers/broker.js";
import { RedisMessageBroker } from "../../src/brokers/redis/redis-broker.js";
import { REDIS_URL, adminClient, deletePrefix, describeRedis, uniquePrefix } from "./redis-env.js";

const message = (id: string, priority: 0 | 1 | 2 = 1): OutgoingMessage => ({
  id,
  queue: "calls",
  topic: "noop",
  payload: JSON.stringify({ id }),
  priority,
  retries: 0,
  timeoutMs: 60_000,
});

describeRedis("script calls, whatever the ioredis client", () => {
  for (const kind of ["plain", "auto-pipelining, friendly stacks"] as const) {
    it(`${kind}: one call and a pipeline of calls store every message once`, async () => {
      const prefix = uniquePrefix();
      const client =
        kind === "plain"
          ? undefined
          : new Redis(REDIS_URL, { enableAutoPipelining: true, showFriendlyErrorStack: true });
      const broker = new RedisMessageBroker(client ?? REDIS_URL, { prefix });
      try {
        await broker.connect();
        await broker.declareQueue("calls");
        const [one] = await broker.enqueue([message("one", 0)]);
        expect(one).toEqual({ id: "one", created: true });
        const many = Array.from({ length: 600 }, (_, i) => message(`m${i}`, (i % 3) as 0 | 1 | 2));
        const outcomes = await broker.enqueue([...many, message("one")]);
        expect(outcomes.filter((o) => o.created)).toHaveLength(600);
        expect(outcomes.at(-1)).toEqual({ id: "one", created: false });
        expect((await broker.counts("calls")).ready).toBe(601);
        await expect(broker.enqueue([{ ...message("x"), queue: "undeclared" }])).rejects.toThrow(
          /not declared/i,
        );
        const got = await broker.receive(["calls"], { max: 2, leaseMs: 10_000 });
        expect(got.map((d) => d.message.id)).toEqual(["one", "m0"]);
      } finally {
        await broker.disconnect();
        client?.disconnect();
        const admin = adminClient();
        await deletePrefix(admin, prefix);
        admin.disconnect();
      }
    });
  }
});

import type { Delivery, MessageBroker, Message } from "../../src/brokers/broker.js";
import { runCli } from "../../src/cli/run.js";
import type { Connection } from "../../src/connection/connection.js";

/** What one CLI run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `repid <argv>` in-process on `connection`, capturing its output. */
export async function cli(connection: Connection, ...argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    connection,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
  });
  return { code, stdout, stderr };
}

/** A message as a producer would send it. */
export function outgoing(queue: string, id: string, extra: Partial<Message> = {}) {
  return {
    id,
    queue,
    topic: "send_email",
    payload: JSON.stringify({ to: `${id}@example.com`, subject: "hi" }),
    priority: 1 as const,
    retries: 0,
    timeoutMs: 60_000,
    ...extra,
  };
}

/** Takes up to `max` ready messages of `queue` under a long lease. */
export async function take(broker: MessageBroker, queue: string, max: number): Promise<Delivery[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 1000);
  try {
    return await broker.receive([queue], { max, leaseMs: 60_000, signal: ac.signal });
  } finally {
    clearTimeout(timer);
  }
}

/** Enqueues messages with these ids and dead-letters them, each with an error and a stack. */
export async function bury(
  broker: MessageBroker,
  queue: string,
  ids: readonly string[],
): Promise<void> {
  await broker.enqueue(ids.map((id) => outgoing(queue, id)));
  const taken = await take(broker, queue, ids.length);
  await broker.settle(
    taken.map((delivery) => ({
      kind: "dead" as const,
      delivery,
      error: {
        name: "SmtpError",
        message: `mailbox ${delivery.message.id} unavailable`,
        stack: `SmtpError: mailbox ${delivery.message.id} unavailable\n    at send (mailer.ts:12:7)`,
        code: "SMTP_550",
      },
    })),
  );
}

/**
 * Declares a concurrency limit of 1 on topic "sync" of `queue`, enqueues s1, s2, s3 of it and
 * takes s1: s2 and s3 then wait for the limit (on a broker with `limits`).
 */
export async function holdTwo(broker: MessageBroker, queue: string): Promise<Delivery> {
  await broker.declareLimits!(queue, "sync", { concurrency: { limit: 1 } });
  await broker.enqueue(["s1", "s2", "s3"].map((id) => outgoing(queue, id, { topic: "sync" })));
  const taken = await take(broker, queue, 10);
  if (taken.length !== 1 || taken[0]!.message.id !== "s1") {
    throw new Error(`expected to take s1 alone, took ${taken.map((d) => d.message.id).join(", ")}`);
  }
  return taken[0]!;
}

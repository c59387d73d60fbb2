/**
 * `npm run example`: the producer and the worker end to end. Without REDIS_URL both run in this
 * process on the in-memory broker; with REDIS_URL (and repid's RedisMessageBroker) the worker
 * runs as a second process and they meet on Redis. Prints what happened; exits 0 on success.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Connection, InMemoryMessageBroker, Job, Queue, type WorkerRunner } from "repid";
import { RedisMessageBroker } from "repid/redis";
import { OUTBOX } from "./actors/email.js";
import { Currency } from "./generated/registry.js";
import { startProducer } from "./services/producer.js";
import { createWorker } from "./services/worker.js";

const log = (line: string) => process.stdout.write(`${line}\n`);
const redisUrl = process.env["REDIS_URL"];
const prefix = `repid-example-${process.pid}`;

async function post(
  base: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function result(base: string, actor: string, id: unknown): Promise<unknown> {
  const response = await fetch(`${base}/results/${String(id)}?actor=${actor}`);
  const body: unknown = await response.json();
  if (response.status !== 200)
    throw new Error(`result of ${actor} ${String(id)}: ${JSON.stringify(body)}`);
  return body;
}

function startWorkerProcess(): ChildProcess {
  const script = fileURLToPath(new URL("./services/worker-main.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, REPID_EXAMPLE_PREFIX: prefix },
    stdio: ["ignore", "inherit", "inherit"],
  });
  log(`worker: started as process ${child.pid} on ${redisUrl}`);
  return child;
}

async function main(): Promise<void> {
  await rm(OUTBOX, { force: true });
  const broker = redisUrl
    ? new RedisMessageBroker(redisUrl, { prefix })
    : new InMemoryMessageBroker();
  const connection = new Connection(broker);
  log(redisUrl ? "mode: two processes on Redis" : "mode: one process, in-memory broker");

  let child: ChildProcess | undefined;
  let stopWorker: () => Promise<WorkerRunner | undefined>;
  if (redisUrl) {
    child = startWorkerProcess();
    const exited = new Promise<void>((resolve) => child!.once("exit", () => resolve()));
    stopWorker = async () => {
      child!.kill("SIGTERM");
      await exited;
      return undefined;
    };
  } else {
    const worker = createWorker({ connection });
    const running = worker.run();
    stopWorker = async () => {
      worker.stop();
      return running;
    };
  }

  const producer = await startProducer({ connection });
  log(`producer: listening on ${producer.url}`);
  try {
    const email = await post(producer.url, "/email", {
      to: "ada@example.com",
      subject: "Welcome",
      body: "Hello Ada",
    });
    const primes = await post(producer.url, "/primes", { below: 2_000_000 });
    const charge = await post(producer.url, "/charge", {
      orderId: "o-1",
      amount: { amount: 4200, currency: Currency.EUR },
      declines: 2,
    });
    const order = await post(producer.url, "/orders", {
      id: "o-1",
      customer: { email: "ada@example.com", vip: true },
      items: [
        { sku: "book", quantity: 2, unitPrice: { amount: 1500, currency: "EUR" } },
        {
          sku: "pen",
          quantity: 4,
          unitPrice: { amount: 300, currency: "EUR" },
          options: { colour: "blue" },
        },
      ],
      shipTo: { name: "Ada", street: "1 Analytical Way", city: "London", country: "GB" },
      placedAt: "2024-05-01T09:30:00.000Z",
    });
    for (const [what, r] of Object.entries({ email, primes, charge, order })) {
      if (r.status !== 202)
        throw new Error(`${what}: expected 202, got ${r.status} ${JSON.stringify(r.body)}`);
      log(`producer: enqueued ${what} -> job ${String(r.body["id"])}`);
    }

    const invalid = await post(producer.url, "/email", { to: "bob@example.com", subject: 42 });
    if (invalid.status !== 400)
      throw new Error(`invalid email: expected 400, got ${invalid.status}`);
    log(
      `producer: rejected an invalid email before sending it (400): ${JSON.stringify(invalid.body["issues"])}`,
    );

    log(
      `send_email     -> ${JSON.stringify(await result(producer.url, "sendEmail", email.body["id"]))}`,
    );
    log(
      `count_primes   -> ${JSON.stringify(await result(producer.url, "countPrimes", primes.body["id"]))}`,
    );
    log(
      `charge_card    -> ${JSON.stringify(await result(producer.url, "chargeCard", charge.body["id"]))}`,
    );
    log(
      `process_order  -> ${JSON.stringify(await result(producer.url, "processOrder", order.body["id"]))}`,
    );

    // A hand-written message that skips the typed client: the worker validates it with the
    // registry and dead-letters it at once, without retries.
    await new Job("process_order", { queue: "orders", args: { id: 7 }, retries: 5 }).enqueue({
      connection,
    });
    const orders = new Queue("orders", { connection });
    const dead = await waitFor(async () =>
      (await orders.deadLetters()).find((d) => d.error.code === "VALIDATION"),
    );
    log(
      `worker: dead-lettered a hand-written invalid message: ${dead.error.message.split("\n").join(" ")}`,
    );

    // A message an older producer left in the queue: send_email's first version took
    // { to, text }. The actor's upcaster turns it into today's arguments before it runs.
    const legacy = await new Job("send_email", {
      queue: "emails",
      args: { to: "old@example.com", text: "Queued before the upgrade" },
      headers: { "repid-schema": "b850b2e4fc34" },
      storeResult: true,
    }).enqueue({ connection });
    const sent = (await legacy.result({ timeout: "10s" })) as { bytes: number };
    log(
      `worker: ran a message of an older schema via its upcaster (${sent.bytes} bytes in the outbox)`,
    );
  } finally {
    await producer.close();
    const runner = await stopWorker();
    if (runner)
      log(
        `worker: processed ${runner.processed} (succeeded ${runner.succeeded}, retried ${runner.retried}, dead-lettered ${runner.deadLettered})`,
      );
    if (redisUrl) {
      for (const queue of ["emails", "cpu", "payments", "orders"])
        await new Queue(queue, { connection }).delete();
    }
    await connection.disconnect();
  }
  log("done");
}

/** Polls `check` until it returns a value (at most 10 s): the dead letter is written by the worker. */
async function waitFor<T>(check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting for the worker");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

await main().catch((error: unknown) => {
  process.stderr.write(
    `example failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});

/**
 * The producer service: a node:http endpoint that enqueues jobs through the typed client.
 * It imports only `repid` and the generated registry, never an actor file.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  Queue,
  ValidationError,
  type Connection,
  type EnqueueOptions,
  type JobHandle,
} from "repid";
import { createJobs, registry, type Jobs } from "../generated/registry.js";

/** A running producer. */
export interface Producer {
  readonly url: string;
  close(): Promise<void>;
}

type Route = (jobs: Jobs, body: unknown) => Promise<JobHandle<unknown>>;

// The bodies come from the network, so they are only *claimed* to have the right type: the
// client validates them with the registry's schemas and throws ValidationError otherwise.
const routes: Record<string, Route> = {
  "/email": (jobs, body) =>
    jobs.sendEmail.enqueue(body as Parameters<Jobs["sendEmail"]["enqueue"]>[0]),
  "/primes": (jobs, body) =>
    jobs.countPrimes.enqueue(body as Parameters<Jobs["countPrimes"]["enqueue"]>[0]),
  "/charge": (jobs, body) => {
    const options: EnqueueOptions = { retries: 3, timeout: "2s" };
    return jobs.chargeCard.enqueue(body as Parameters<Jobs["chargeCard"]["enqueue"]>[0], options);
  },
  "/orders": (jobs, body) =>
    jobs.processOrder.enqueue(body as Parameters<Jobs["processOrder"]["enqueue"]>[0]),
};

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** Declares the registry's queues, then listens on `port` (0: any free port). */
export async function startProducer(options: {
  connection: Connection;
  port?: number;
}): Promise<Producer> {
  const jobs = createJobs(options.connection);
  for (const queue of new Set(Object.values(registry).map((d) => d.queue))) {
    await new Queue(queue, { connection: options.connection }).declare();
  }
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? "/", "http://localhost");
      try {
        const result = url.pathname.match(/^\/results\/([\w-]+)$/);
        if (request.method === "GET" && result) {
          const value = await jobsResult(jobs, url.searchParams.get("actor") ?? "", result[1]!);
          return send(response, 200, value);
        }
        const route = request.method === "POST" ? routes[url.pathname] : undefined;
        if (!route) return send(response, 404, { error: "not found" });
        const handle = await route(jobs, await readJson(request));
        send(response, 202, { id: handle.id });
      } catch (error) {
        if (error instanceof ValidationError)
          return send(response, 400, { error: error.message, issues: error.issues });
        send(response, 500, { error: (error as Error).message });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** Awaits a job's result through the typed client of the actor named in `?actor=`. */
function jobsResult(jobs: Jobs, property: string, id: string): Promise<unknown> {
  if (!Object.hasOwn(jobs, property)) throw new Error(`unknown actor property "${property}"`);
  return jobs[property as keyof Jobs].result(id, { timeout: "10s" });
}

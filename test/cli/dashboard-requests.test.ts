/**
 * Requests the dashboard must refuse or answer carefully (issue 24): its redirects stay on its own
 * host (a path that normalizes to `//host`, such as `/.//evil.example`, is not turned into
 * `Location: //evil.example`); malformed input is a 400, not a 500; without a token, a request
 * that a proxy forwarded is refused even though it comes from loopback.
 */
import { createServer, request, type Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { InMemoryMessageBroker } from "../../src/brokers/in-memory/in-memory-broker.js";
import { createDashboard, type Dashboard } from "../../src/cli/dashboard/handler.js";
import { Connection } from "../../src/connection/connection.js";
import { outgoing, take } from "./helpers.js";

let server: Server;
let dashboard: Dashboard;
let port: number;
let connection: Connection;

beforeAll(async () => {
  connection = new Connection(new InMemoryMessageBroker());
  await connection.connect();
  await connection.broker.declareQueue("default");
  dashboard = createDashboard({ connection, token: "s3cret" });
  server = createServer((req, res) => {
    void dashboard.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  dashboard.close();
  await new Promise((resolve) => server.close(resolve));
});

/** A GET with the path sent exactly as written (fetch would normalize it first). */
function get(path: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on("error", reject);
    req.end();
  });
}

it("redirects to a path of its own, never to another host", async () => {
  for (const path of [
    "/.//evil.example?token=s3cret",
    "//evil.example?token=s3cret",
    "/?token=s3cret",
  ]) {
    const reply = await get(path);
    expect(reply.status, path).toBe(302);
    expect(reply.location, path).toMatch(/^\/(?!\/)/);
  }
  expect((await get("/.//evil.example?token=s3cret")).location).toBe("/evil.example");
});

it("answers 400, not 500, to a malformed path or limit", async () => {
  const auth = { Authorization: "Bearer s3cret" };
  const status = async (path: string): Promise<number> =>
    (await fetch(`http://127.0.0.1:${port}${path}`, { headers: auth })).status;
  expect(await status("/api/queues/%E0%A4%A/jobs")).toBe(400);
  expect(await status("/api/queues/default/jobs?limit=NaN")).toBe(400);
  expect(await status("/api/queues/default/jobs?limit=0")).toBe(400);
  expect(await status("/api/queues/default/jobs?limit=-3")).toBe(400);
  expect(await status("/api/queues/default/jobs?limit=5")).toBe(200);
});

it("without a token, refuses a request a proxy forwarded, though it comes from loopback", async () => {
  const open = createDashboard({ connection: new Connection(new InMemoryMessageBroker()) });
  const local = createServer((req, res) => {
    void open.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => local.listen(0, "127.0.0.1", resolve));
  const at = `http://127.0.0.1:${(local.address() as { port: number }).port}/api/queues`;
  try {
    expect((await fetch(at)).status).toBe(200);
    const forwarded: Record<string, string>[] = [
      { "X-Forwarded-For": "203.0.113.9" },
      { Forwarded: "for=203.0.113.9" },
      { "X-Real-IP": "203.0.113.9" },
      { "X-Forwarded-Host": "repid.example" },
    ];
    for (const header of forwarded) {
      const reply = await fetch(at, { headers: header });
      expect(reply.status, JSON.stringify(header)).toBe(403);
      expect(((await reply.json()) as { error: string }).error).toMatch(
        /forwarded request.*--token/,
      );
    }
  } finally {
    open.close();
    await new Promise((resolve) => local.close(resolve));
  }
});

it("replays or deletes dead letters only when told which: ids, or all (issue 24)", async () => {
  const post = async (path: string, body: unknown): Promise<number> =>
    (
      await fetch(`http://127.0.0.1:${port}/api/queues/default/${path}`, {
        method: "POST",
        headers: { Authorization: "Bearer s3cret", "Content-Type": "application/json" },
        body: JSON.stringify(body),
      })
    ).status;
  for (const operation of ["replay", "delete-dead"]) {
    expect(await post(operation, {}), operation).toBe(400);
    expect(await post(operation, { ids: ["x"], all: true }), operation).toBe(400);
    expect(await post(operation, { all: true }), operation).toBe(200);
    expect(await post(operation, { ids: ["x"] }), operation).toBe(200);
  }
});

it("GET /api/jobs/<id>: 400 for a malformed id, 404 for an unknown one, the job or its stored result otherwise; behind the token (issue 24)", async () => {
  const broker = connection.broker;
  await broker.enqueue([outgoing("default", "done-1", { resultTtlMs: 60_000 })]);
  const [done] = await take(broker, "default", 1);
  const finishedAt = Date.now();
  await broker.settle([
    {
      kind: "ack",
      delivery: done!,
      result: { stored: { ok: true, value: "42", finishedAt }, ttlMs: 60_000 },
    },
  ]);
  await broker.enqueue([outgoing("default", "job-1")]);

  const get = async (path: string, token = "s3cret") => {
    const res = await fetch(`http://127.0.0.1:${port}/api/jobs/${path}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  for (const malformed of ["%20", "%20%09", "%E0%A4%A"]) {
    const reply = await get(malformed);
    expect(reply.status, malformed).toBe(400);
    expect(reply.body.code, malformed).toMatch(/BAD_REQUEST|INVALID_OPTION/);
  }
  expect(await get("nobody")).toEqual({
    status: 404,
    body: { error: 'job "nobody" not found', code: "NOT_FOUND" },
  });
  expect(await get("job-1")).toMatchObject({
    status: 200,
    body: { state: "ready", message: { id: "job-1", queue: "default", topic: "send_email" } },
  });
  expect((await get("job-1?queue=default")).status).toBe(200);
  expect(await get("done-1")).toEqual({
    status: 200,
    body: { id: "done-1", state: "finished", result: { ok: true, value: "42", finishedAt } },
  });
  expect((await get("job-1", "wrong")).status).toBe(401);
});

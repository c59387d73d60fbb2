import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import { Admin } from "../../ops/admin.js";
import type { Connection } from "../../connection/connection.js";
import { InvalidOptionError } from "../../core/errors.js";
import type { Registry } from "../../core/registry.js";
import { answer, type ApiContext } from "./api.js";
import { APP_JS } from "./assets/app-js.js";
import { INDEX_HTML, STYLE_CSS } from "./assets/page.js";
import { authorize } from "./auth.js";
import { CountSampler } from "./sampler.js";

/** What the dashboard shows and whom it lets in. */
export interface DashboardOptions {
  /** The broker to operate (its `admin` operations). */
  readonly connection: Connection;
  /** A generated registry: its actors, their argument schemas and an enqueue form. @defaultValue none */
  readonly registry?: Registry;
  /**
   * Required on every request when set (bearer header, `?token=`, or the cookie that sets).
   * Without one, requests arriving beyond loopback are refused. @defaultValue none
   */
  readonly token?: string;
  /** Path the dashboard lives under, such as "/repid". @defaultValue "" (the root) */
  readonly basePath?: string;
  /** How often queue counts are sampled for the charts, in ms. @defaultValue 5000 */
  readonly sampleEveryMs?: number;
  /** How many samples per queue the charts show. @defaultValue 120 (ten minutes at 5 s) */
  readonly samplesKept?: number;
}

/** A dashboard: a request handler plus the sampler behind its charts. */
export interface Dashboard {
  /** Serves `req` when it is the dashboard's (resolves true), else leaves it alone (false). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Stops sampling. The server, and the connection, stay as they are. */
  close(): void;
}

const MAX_BODY = 1024 * 1024;

/** Builds the dashboard's request handler, to route to from any `node:http` server. */
export function createDashboard(options: DashboardOptions): Dashboard {
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  if (basePath !== "" && !basePath.startsWith("/")) {
    throw new InvalidOptionError("basePath", 'a path such as "/repid"');
  }
  const sampleEveryMs = options.sampleEveryMs ?? 5000;
  const admin = new Admin(options.connection);
  const sampler = new CountSampler(admin, sampleEveryMs, options.samplesKept ?? 120);
  void sampler.sample();
  const ctx: ApiContext = {
    admin,
    connection: options.connection,
    registry: options.registry,
    sampler,
    sampleEveryMs,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://dashboard");
    if (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) return false;
    const path = url.pathname.slice(basePath.length);
    const verdict = authorize(req, url, options.token, basePath);
    if (!verdict.ok) {
      send(res, verdict.status, "application/json", JSON.stringify({ error: verdict.reason }));
      return true;
    }
    if (verdict.setCookie) res.setHeader("Set-Cookie", verdict.setCookie);
    if (path === "" || (verdict.setCookie && req.method === "GET" && !path.startsWith("/api/"))) {
      // The token leaves the address bar once it sits in the cookie.
      url.searchParams.delete("token");
      // One leading slash: "//host" would send the browser to another host.
      const target = `${basePath}/${path.replace(/^\/+/, "")}${url.search}`;
      res.writeHead(302, { Location: target }).end();
      return true;
    }
    if (path.startsWith("/api/")) {
      const body = req.method === "POST" ? await readJson(req) : {};
      if (body === undefined) {
        send(res, 400, "application/json", JSON.stringify({ error: "body is not a JSON object" }));
        return true;
      }
      const reply = await answer(ctx, req.method ?? "GET", path.slice(5), url.searchParams, body);
      send(res, reply.status, "application/json", JSON.stringify(reply.body));
      return true;
    }
    const asset = ASSETS[path];
    if (asset && req.method === "GET") send(res, 200, asset[0], asset[1]);
    else send(res, 404, "text/plain; charset=utf-8", "not found\n");
    return true;
  }

  return { handle, close: () => sampler.stop() };
}

/**
 * Mounts the dashboard on an existing `node:http` server under `basePath`: its requests go to
 * the dashboard, every other request to the server's own listeners as before.
 * @example
 * const server = createServer(app);
 * const dashboard = mountDashboard(server, { connection, basePath: "/repid" });
 * server.listen(3000, "127.0.0.1");
 */
export function mountDashboard(server: Server, options: DashboardOptions): Dashboard {
  const dashboard = createDashboard(options);
  const others = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    dashboard.handle(req, res).then(
      (handled) => {
        if (!handled) for (const listener of others) listener.call(server, req, res);
      },
      () => {
        if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "dashboard error\n");
      },
    );
  });
  server.once("close", () => dashboard.close());
  return dashboard;
}

const ASSETS: Record<string, [type: string, body: string]> = {
  "/": ["text/html; charset=utf-8", INDEX_HTML],
  "/app.js": ["text/javascript; charset=utf-8", APP_JS],
  "/style.css": ["text/css; charset=utf-8", STYLE_CSS],
};

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who may use the dashboard. Bound to loopback it is open to the local user, as a dev server
 * is; reachable any other way it requires the token on every request (bearer header, the
 * cookie set when the page is opened with `?token=`, or that query parameter itself).
 * State-changing requests must be JSON from the dashboard's own origin, so another web page
 * cannot drive them through the user's browser, and a loopback dashboard answers only to
 * loopback host names (no DNS rebinding).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The addresses and names that count as loopback: only these may skip the token. */
const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Whether binding `host` keeps the dashboard on loopback (then no token is required). */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase());
}

/** The cookie that carries the token's digest after the page was opened with `?token=`. */
export const COOKIE = "repid_dashboard";

/** What to do with a request: serve it (maybe setting the cookie), or refuse it. */
export type Verdict =
  | { readonly ok: true; readonly setCookie?: string }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

/** Decides whether `req` may be served. `basePath` scopes the cookie. */
/** Headers a proxy adds: a request that carries one came through a proxy. */
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip", "via"];

export function authorize(
  req: IncomingMessage,
  url: URL,
  token: string | undefined,
  basePath: string,
): Verdict {
  const unsafe = req.method !== "GET" && req.method !== "HEAD";
  if (unsafe) {
    const type = req.headers["content-type"] ?? "";
    if (!type.startsWith("application/json")) {
      return { ok: false, status: 403, reason: "state-changing requests must send JSON" };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && hostOf(origin) !== req.headers.host) {
      return { ok: false, status: 403, reason: "cross-origin request refused" };
    }
  }
  if (token === undefined) {
    // Without a token, only this machine is trusted: a peer on loopback, reaching a loopback
    // address, with no sign of a proxy in front (a reverse proxy on this machine connects from
    // loopback on behalf of anyone, and says so in these headers).
    const forwarded = FORWARDING_HEADERS.find((name) => req.headers[name] !== undefined);
    if (forwarded !== undefined || !LOOPBACK_ADDRESSES.has(req.socket.remoteAddress ?? "")) {
      return {
        ok: false,
        status: 403,
        reason: `${forwarded === undefined ? "a request from beyond this machine" : `a forwarded request (${forwarded})`} needs a token: start the dashboard with --token`,
      };
    }
    if (!LOOPBACK_ADDRESSES.has(req.socket.localAddress ?? "")) {
      return {
        ok: false,
        status: 403,
        reason: "this dashboard is reachable beyond loopback: it needs a token (--token)",
      };
    }
    const host = (req.headers.host ?? "").replace(/:\d+$/, "");
    if (!isLoopbackHost(host)) {
      return { ok: false, status: 403, reason: `host "${host}" refused: use 127.0.0.1` };
    }
    return { ok: true };
  }
  const wanted = digest(token);
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  const query = url.searchParams.get("token") ?? undefined;
  if (bearer !== undefined && same(digest(bearer), wanted)) return { ok: true };
  if (query !== undefined && same(digest(query), wanted)) {
    return { ok: true, setCookie: cookie(wanted, basePath) };
  }
  const fromCookie = cookies(req.headers.cookie)[COOKIE];
  if (fromCookie !== undefined && same(fromCookie, wanted)) return { ok: true };
  return {
    ok: false,
    status: 401,
    reason: "token required: open the dashboard with ?token=<token>",
  };
}

function digest(token: string): string {
  return createHash("sha256").update(`repid-dashboard:${token}`).digest("hex");
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(value: string, basePath: string): string {
  return `${COOKIE}=${value}; Path=${basePath || "/"}; HttpOnly; SameSite=Strict`;
}

function cookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0) out[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return out;
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

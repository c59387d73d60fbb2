import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidOptionError } from "../../core/errors.js";
import { isLoopbackHost } from "./auth.js";
import { mountDashboard, type DashboardOptions } from "./handler.js";

/** Where a standalone dashboard listens. */
export interface ServeOptions extends DashboardOptions {
  /** @defaultValue 4000 (0 picks a free port) */
  readonly port?: number;
  /** Any address other than 127.0.0.1, ::1 or localhost needs a `token`. @defaultValue "127.0.0.1" */
  readonly host?: string;
}

/** A running standalone dashboard. */
export interface RunningDashboard {
  /** Its address, such as `http://127.0.0.1:4000/`. */
  readonly url: string;
  /** Stops sampling and closes the server (and its open connections). */
  close(): Promise<void>;
}

/**
 * Serves the dashboard on its own `node:http` server. Refuses (`InvalidOptionError`) to listen
 * beyond loopback without a token.
 */
export async function serveDashboard(options: ServeOptions): Promise<RunningDashboard> {
  const host = options.host ?? "127.0.0.1";
  requireToken(host, options.token);
  const server = createServer();
  const dashboard = mountDashboard(server, options);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 4000, host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error: unknown) => {
    dashboard.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}${options.basePath ?? ""}/`,
    close: () =>
      new Promise<void>((resolve) => {
        dashboard.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Throws `InvalidOptionError` when binding `host` without a token would expose the dashboard. */
export function requireToken(host: string, token: string | undefined): void {
  if (isLoopbackHost(host) || token) return;
  throw new InvalidOptionError(
    "token",
    `binding ${host} makes the dashboard reachable beyond loopback: give it a token (--token or REPID_DASHBOARD_TOKEN)`,
  );
}

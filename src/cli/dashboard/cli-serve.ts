import { ExitCode } from "../exit-codes.js";
import type { CliSession, GlobalOptions } from "../session.js";
import { loadRegistry } from "../registry-loader.js";
import { requireToken, serveDashboard } from "./serve.js";

/** `repid dashboard`: serves until the session's signal aborts. */
export async function serveFromCli(
  session: CliSession,
  options: GlobalOptions & Record<string, unknown>,
): Promise<number> {
  const token = (options.token as string | undefined) ?? session.env.REPID_DASHBOARD_TOKEN;
  const registryPath = (options.registry as string | undefined) ?? session.env.REPID_REGISTRY;
  const registry = registryPath ? await loadRegistry(registryPath, session.cwd) : undefined;
  const host = options.host as string;
  const port = options.port as number;
  // Checked before connecting: a refused bind needs no broker.
  requireToken(host, token);
  const connection = await session.connection(options);
  const running = await serveDashboard({
    connection,
    host,
    port,
    ...(token ? { token } : {}),
    ...(registry ? { registry } : {}),
  });
  session.stdout.write(
    `repid dashboard on ${running.url}${token ? " (open it with ?token=<your token>)" : ""}\n`,
  );
  await new Promise<void>((resolve) => {
    if (!session.signal) return;
    if (session.signal.aborted) resolve();
    session.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await running.close();
  return ExitCode.OK;
}

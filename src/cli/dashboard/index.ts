/**
 * The repid dashboard, to serve alone or mount on your own `node:http` server.
 * @example
 * import { mountDashboard } from "repid/dashboard";
 * mountDashboard(server, { connection, registry, basePath: "/repid" });
 */
export {
  createDashboard,
  mountDashboard,
  type Dashboard,
  type DashboardOptions,
} from "./handler.js";
export { serveDashboard, type RunningDashboard, type ServeOptions } from "./serve.js";
export { runCli, type RunCliOptions } from "../run.js";
export { ExitCode, type ExitCodeValue } from "../exit-codes.js";

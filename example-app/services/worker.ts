/** The worker service: runs the actors, validating every payload with the generated registry. */
import { Worker, type Connection } from "repid";
import { router } from "../actors/index.js";
import { registry } from "../generated/registry.js";

/** A worker for all the example's actors. */
export function createWorker(options: {
  connection: Connection;
  handleSignals?: NodeJS.Signals[];
}): Worker {
  return new Worker({
    routers: [router],
    registry,
    connection: options.connection,
    threads: 2,
    handleSignals: options.handleSignals ?? [],
  });
}

/**
 * Entry of a worker thread or child process that runs sync actors. It imports the actor's
 * module (whose `router.actor(...)` calls publish the functions) and calls the actor by name.
 */
import { parentPort } from "node:worker_threads";
import { ActorNotFoundError, toFailureInfo } from "../../errors.js";
import { findActor, findActorByName, markExecutor } from "../actor-table.js";
import { displayPath } from "../caller.js";
import type { RunReply, RunRequest } from "./protocol.js";

markExecutor();
const loaded = new Map<string, Promise<unknown>>();

async function handle(request: RunRequest): Promise<RunReply> {
  try {
    let loading = loaded.get(request.module);
    if (!loading) loaded.set(request.module, (loading = import(request.module)));
    await loading;
    const fn = findActor(request.module, request.actor) ?? findActorByName(request.actor);
    if (!fn) {
      throw new ActorNotFoundError(
        `Actor "${request.actor}" was not registered when ${displayPath(request.module)} was imported in a ${parentPort ? "worker thread" : "child process"}: register sync actors at the top level of their module`,
      );
    }
    const controller = new AbortController();
    const result = await fn(request.args, {
      jobId: request.jobId,
      attempt: request.attempt,
      queue: request.queue,
      actor: request.actor,
      signal: controller.signal,
    });
    return {
      type: "done",
      ok: true,
      value: result === undefined ? undefined : JSON.stringify(result),
    };
  } catch (error) {
    return { type: "done", ok: false, error: toFailureInfo(error) };
  }
}

if (parentPort) {
  const port = parentPort;
  port.on(
    "message",
    (request: RunRequest) => void handle(request).then((reply) => port.postMessage(reply)),
  );
} else if (process.send) {
  process.on(
    "message",
    (request: RunRequest) => void handle(request).then((reply) => process.send!(reply)),
  );
  process.on("disconnect", () => process.exit(0));
}

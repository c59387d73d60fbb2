/**
 * Entry of a worker thread or child process that runs sync actors. It imports the actor's
 * module (whose `router.actor(...)` calls publish the functions) and calls the actor by name.
 */
import { parentPort } from "node:worker_threads";
import { ActorNotFoundError, toFailureInfo } from "../../core/errors.js";
import { progressText } from "../../core/watch.js";
import { markExecutor } from "../../core/executor-flag.js";
import { findActor, findActorByName } from "../actor-table.js";
import { displayPath } from "../caller.js";
import type { ParentMessage, RunReply, RunRequest } from "./protocol.js";

markExecutor();
const loaded = new Map<string, Promise<unknown>>();
/** The call in progress (one at a time per executor), aborted on the parent's request. */
let current: AbortController | undefined;

async function handle(request: RunRequest, send: (reply: RunReply) => void): Promise<RunReply> {
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
    const controller = (current = new AbortController());
    send({ type: "started" });
    const returned: unknown = fn(request.args, {
      jobId: request.jobId,
      attempt: request.attempt,
      queue: request.queue,
      actor: request.actor,
      signal: controller.signal,
      headers: request.headers,
      // Sent to the worker, which publishes it as the attempt's (and checks it against the
      // registry, where it logs a value that does not fit: a sync actor cannot await a reply).
      progress: (value: unknown) => {
        let text: string;
        try {
          text = progressText(value);
        } catch (error) {
          return Promise.reject(error);
        }
        if (current === controller) send({ type: "progress", value: text });
        return Promise.resolve();
      },
    });
    const promise = typeof (returned as { then?: unknown } | null)?.then === "function";
    const result = await returned;
    return {
      type: "done",
      ok: true,
      value: result === undefined ? undefined : JSON.stringify(result),
      ...(promise ? { promise: true as const } : {}),
    };
  } catch (error) {
    return { type: "done", ok: false, error: toFailureInfo(error) };
  } finally {
    current = undefined;
  }
}

function abortError(reason: { name: string; message: string }): Error {
  const error = new Error(reason.message);
  error.name = reason.name;
  return error;
}

/** Routes the parent's messages; `send` posts a reply back. */
function listen(
  on: (listener: (message: ParentMessage) => void) => void,
  send: (reply: RunReply) => void,
): void {
  on((message) => {
    if (message.type === "abort") current?.abort(abortError(message.reason));
    else void handle(message, send).then(send);
  });
  // An actor's leftover timer or promise must not kill the executor (and with it the next job):
  // the error goes to the worker's logger instead.
  const report = (error: unknown): void => send({ type: "uncaught", error: toFailureInfo(error) });
  process.on("uncaughtException", report);
  process.on("unhandledRejection", report);
}

if (parentPort) {
  const port = parentPort;
  listen(
    (listener) => port.on("message", listener),
    (reply) => port.postMessage(reply),
  );
} else if (process.send) {
  listen(
    (listener) => process.on("message", listener),
    (reply) => process.send!(reply),
  );
  process.on("disconnect", () => process.exit(0));
}

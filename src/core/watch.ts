import { InvalidPayloadError } from "./errors.js";
/**
 * The header that asks workers to publish a job's lifecycle (running, failed, succeeded, dead)
 * as job updates, for `JobHandle.watch()`. Jobs without it pay nothing; `ctx.progress` is
 * published for every job.
 */
export const WATCH_HEADER = "repid-watch";

/** How long a job's last update is kept, when nothing says otherwise: one day. */
export const UPDATE_TTL_MS = 86_400_000;

/**
 * A progress value as the JSON text that travels and is stored.
 * @throws InvalidPayloadError when the value is not JSON (a function, a BigInt, a cycle).
 */
export function progressText(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidPayloadError(`progress must be a JSON value: ${(error as Error).message}`);
  }
  if (text === undefined) throw new InvalidPayloadError("progress must be a JSON value");
  return text;
}

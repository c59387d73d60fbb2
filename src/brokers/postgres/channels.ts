/**
 * The broker's notification channels (`pg_notify` in its SQL, `LISTEN` in ./notifications.ts),
 * named after its schema, and what the updates channel carries.
 */
import type { JobUpdate } from "../broker.js";

/** Payload: a queue that has a ready message. */
export const readyChannel = (s: string): string => `${s}.ready`;
/** Payload: a job id whose result was stored. */
export const resultChannel = (s: string): string => `${s}.results`;
/** Payload: an `UpdateNote` as JSON. */
export const updateChannel = (s: string): string => `${s}.updates`;

/** A job update as announced: the update itself, or only the job when it is too large. */
export interface UpdateNote {
  readonly q: string;
  readonly i: string;
  readonly u?: JobUpdate;
}

/**
 * Watching a job: `JobHandle.progress()` and `JobHandle.watch()` on the broker's job updates
 * (`publishUpdate`, `readUpdate`, `watchUpdates`), and the `watch` option that asks workers to
 * publish a job's lifecycle.
 */
import type { JobUpdate, JobUpdateState, MessageBroker, StoredResult } from "../brokers/broker.js";
import { capabilitiesOf } from "../brokers/broker.js";
import { InvalidOptionError, NotSupportedError } from "../core/errors.js";
import { WATCH_HEADER } from "../core/watch.js";
import { WatchEvents } from "./watch-events.js";

/** One change of a watched job: its state, its attempt and the last progress it reported. */
export interface JobProgressUpdate<P = unknown> {
  readonly state: JobUpdateState;
  readonly attempt: number;
  readonly progress?: P;
}

/** The headers of a job enqueued with `watch: true`: the given ones and `repid-watch`. */
export function withWatch(
  headers: Readonly<Record<string, string>> | undefined,
  watch: boolean | undefined,
): Readonly<Record<string, string>> | undefined {
  if (watch === undefined || watch === false) return headers;
  if (watch !== true) throw new InvalidOptionError("watch", "expected a boolean");
  return Object.freeze({ ...headers, [WATCH_HEADER]: "1" });
}

/** Throws `NotSupportedError` unless the broker keeps job updates. */
export function checkUpdates(
  broker: MessageBroker,
): Required<Pick<MessageBroker, "readUpdate" | "watchUpdates">> {
  const { readUpdate, watchUpdates } = broker;
  if (!capabilitiesOf(broker).progress || !readUpdate || !watchUpdates)
    throw new NotSupportedError(
      broker.constructor.name,
      "progress",
      "job updates are kept by the in-memory and Redis brokers",
    );
  return { readUpdate: readUpdate.bind(broker), watchUpdates: watchUpdates.bind(broker) };
}

/** Turns a progress value read from JSON into its type (the registry's progress schema). */
export type ProgressDecoder<P> = (value: unknown) => P;

/** The last progress value of a job (decoded from JSON, then by `decode`), or `undefined`. */
export async function readProgress<P>(
  broker: MessageBroker,
  queue: string,
  id: string,
  decode?: ProgressDecoder<P>,
): Promise<P | undefined> {
  const update = await checkUpdates(broker).readUpdate(queue, id);
  return update?.progress === undefined ? undefined : parse<P>(update.progress, decode);
}

/**
 * The updates of a job until it ends (see `JobHandle.watch`). Checks the broker at once (throws
 * `NotSupportedError`), then iterates lazily.
 */
export function watchJob<P>(
  broker: MessageBroker,
  queue: string,
  id: string,
  options: WatchOptions<P>,
): AsyncIterable<JobProgressUpdate<P>> {
  const updates = checkUpdates(broker);
  return { [Symbol.asyncIterator]: () => iterate<P>(broker, updates, queue, id, options) };
}

/** How `watchJob` watches: `results` reads the job's stored result; `decode` its progress. */
export interface WatchOptions<P> {
  readonly signal?: AbortSignal;
  readonly results: boolean;
  readonly decode?: ProgressDecoder<P>;
}

type Event = { readonly update: JobUpdate } | { readonly result: StoredResult };

async function* iterate<P>(
  broker: MessageBroker,
  updates: ReturnType<typeof checkUpdates>,
  queue: string,
  id: string,
  options: WatchOptions<P>,
): AsyncGenerator<JobProgressUpdate<P>> {
  if (options.signal?.aborted) return;
  const events = new WatchEvents<Event>(options.signal);
  try {
    // Subscribe first, then read where the job stands: nothing published in between is lost.
    await updates.watchUpdates(queue, id, (update) => events.push({ update }), events.signal);
    if (options.results && capabilitiesOf(broker).results)
      events.result(broker, id, queue, (result) => ({ result }));
    let last: JobProgressUpdate<P> | undefined;
    const initial = await current<P>(broker, updates, queue, id, options.decode);
    const emit = function* (next: JobProgressUpdate<P>): Generator<JobProgressUpdate<P>> {
      if (last && same(last, next)) return;
      last = next;
      yield next;
    };
    if (initial) {
      yield* emit(initial);
      if (ends(initial.state)) return;
    }
    for (;;) {
      const event = await events.next();
      if (event === "aborted") return;
      const next =
        "update" in event
          ? updateOf<P>(event.update, options.decode)
          : fromResult<P>(event.result, last);
      yield* emit(next);
      if (ends(next.state)) return;
    }
  } finally {
    events.close();
  }
}

/** Where the job stands now: its message's state (or its result) and its last progress. */
async function current<P>(
  broker: MessageBroker,
  updates: ReturnType<typeof checkUpdates>,
  queue: string,
  id: string,
  decoder: ProgressDecoder<P> | undefined,
): Promise<JobProgressUpdate<P> | undefined> {
  const [view, update] = await Promise.all([
    broker.admin?.job(queue, id),
    updates.readUpdate(queue, id),
  ]);
  const progress =
    update?.progress === undefined ? {} : { progress: parse<P>(update.progress, decoder) };
  if (view) {
    const attempt = view.message.attempt;
    if (view.state === "dead") return { state: "dead", attempt };
    if (view.state === "running") return { state: "running", attempt, ...progress };
    return { state: "waiting", attempt, ...progress };
  }
  const result = await broker.readResult(id, { queue });
  if (result) return fromResult<P>(result, update ? updateOf<P>(update, decoder) : undefined);
  return update ? updateOf<P>(update, decoder) : undefined;
}

/** A published update as a watcher sees it: its progress decoded. */
export function updateOf<P>(
  update: JobUpdate,
  decoder: ProgressDecoder<P> | undefined,
): JobProgressUpdate<P> {
  return update.progress === undefined
    ? { state: update.state, attempt: update.attempt }
    : {
        state: update.state,
        attempt: update.attempt,
        progress: parse<P>(update.progress, decoder),
      };
}

/** The end a stored result tells, with the last progress seen before it. */
export function fromResult<P>(
  result: StoredResult,
  last: JobProgressUpdate<P> | undefined,
): JobProgressUpdate<P> {
  const attempt = result.ok ? (last?.attempt ?? 1) : result.attempts;
  const state = result.ok ? "succeeded" : "dead";
  return last?.progress === undefined
    ? { state, attempt }
    : { state, attempt, progress: last.progress };
}

function parse<P>(text: string, decoder: ProgressDecoder<P> | undefined): P {
  const value: unknown = JSON.parse(text);
  return decoder ? decoder(value) : (value as P);
}

function ends(state: JobUpdateState): boolean {
  return state === "succeeded" || state === "dead";
}

/** True when `b` tells nothing new after `a`. */
export function same<P>(a: JobProgressUpdate<P>, b: JobProgressUpdate<P>): boolean {
  return (
    a.state === b.state &&
    a.attempt === b.attempt &&
    JSON.stringify(a.progress) === JSON.stringify(b.progress)
  );
}

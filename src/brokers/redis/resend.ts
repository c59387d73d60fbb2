import type { RedisClient } from "./cluster.js";
import {
  failed,
  replied,
  type CallOutcome,
  type ScriptCall,
  type ScriptRunner,
} from "./scripts.js";

/** Attempts of one batch when the connection (not Redis) fails it, and the pause before each. */
const DELAYS_MS = [100, 400, 1000];

function connectionTrouble(error: Error): boolean {
  // A ReplyError is Redis's own answer (WRONGTYPE, OOM...): sending again changes nothing.
  return error.name !== "ReplyError";
}

/**
 * Runs script calls, sending again those that failed for want of a connection (the reply lost
 * with it, or never sent). The calls go again exactly as they were, with the same call ids in
 * their memo keys, so a call that Redis did apply the first time answers now as it did then
 * (see MEMO_MS in scripts/common.lua): a settlement applied is reported applied, a receive hands
 * out the same deliveries, an enqueue reports its messages created. ioredis itself sends again
 * the commands in flight when a connection drops; this covers what it gives up on.
 */
export async function runResending(
  scripts: ScriptRunner,
  client: RedisClient,
  calls: readonly ScriptCall[],
  stopped: () => boolean = () => false,
): Promise<CallOutcome[]> {
  let outcomes: CallOutcome[] | undefined;
  if (calls.length === 1) {
    // The common case (an awaited enqueue, a receive round): one call, sent as it is.
    try {
      return [replied(await scripts.run(client, calls[0]!))];
    } catch (error) {
      const outcome = failed(error);
      outcomes = [outcome];
      if (!connectionTrouble(outcome.error!) || stopped()) return outcomes;
      await new Promise((resolve) => setTimeout(resolve, DELAYS_MS[0]));
    }
  }
  let pending = calls.map((_, i) => i);
  for (let attempt = outcomes ? 1 : 0; ; attempt++) {
    let got: CallOutcome[];
    try {
      got = await scripts.runMany(
        client,
        pending.map((i) => calls[i]!),
      );
    } catch (error) {
      const outcome = failed(error);
      got = pending.map(() => outcome);
    }
    outcomes ??= new Array<CallOutcome>(calls.length);
    pending.forEach((i, k) => (outcomes![i] = got[k]!));
    pending = pending.filter((i) => {
      const o = outcomes![i]!;
      return !o.ok && connectionTrouble(o.error);
    });
    const delay = DELAYS_MS[attempt];
    if (pending.length === 0 || delay === undefined || stopped()) return outcomes;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

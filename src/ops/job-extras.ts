/**
 * What an operator's job view adds to the broker's: the job's last progress (from the broker's
 * job updates) and, for a step of a flow, its place in it (from its flow header).
 */
import type { JobView } from "../brokers/admin.js";
import { capabilitiesOf, type MessageBroker } from "../brokers/broker.js";
import { readFlowHeader } from "../core/flow-plan.js";

/** `view` with `progress` and `flow` when the job has them. */
export async function withProgressAndFlow(broker: MessageBroker, view: JobView): Promise<JobView> {
  const { id, queue, headers } = view.message;
  const h = readFlowHeader(headers);
  const flow = h && { id: h.f, stage: h.i, ...(h.b === undefined ? {} : { branch: h.b }) };
  const update =
    capabilitiesOf(broker).progress && broker.readUpdate
      ? await broker.readUpdate(queue, id).catch(() => undefined)
      : undefined;
  const progress = update?.progress === undefined ? undefined : parse(update.progress);
  return {
    ...view,
    ...(progress === undefined ? {} : { progress: progress.value }),
    ...(flow ? { flow } : {}),
  };
}

/** The progress value, or nothing when its text is no JSON (another program wrote it). */
function parse(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/**
 * What an operator's job view adds to the broker's: the job's last progress (from the broker's
 * job updates) and, for a step of a flow, its place in it and the steps it knows of (from its
 * flow header), each with where it stands.
 */
import type { FlowPlace, FlowStepView, JobView } from "../brokers/admin.js";
import { capabilitiesOf, type MessageBroker } from "../brokers/broker.js";
import { readFlowHeader, stepId, type FlowHeader } from "../core/flow-plan.js";

/** `view` with `progress` and `flow` when the job has them. */
export async function withProgressAndFlow(broker: MessageBroker, view: JobView): Promise<JobView> {
  const { id, queue, headers } = view.message;
  const h = readFlowHeader(headers);
  const update =
    capabilitiesOf(broker).progress && broker.readUpdate
      ? await broker.readUpdate(queue, id).catch(() => undefined)
      : undefined;
  const progress = update?.progress === undefined ? undefined : parse(update.progress);
  const flow: FlowPlace | undefined = h && {
    id: h.f,
    stage: h.i,
    ...(h.b === undefined ? {} : { branch: h.b }),
    steps: await flowSteps(broker, view, h),
  };
  return {
    ...view,
    ...(progress === undefined ? {} : { progress: progress.value }),
    ...(flow ? { flow } : {}),
  };
}

/** The branches of the step's own stage (or the step alone) and the stages after it. */
async function flowSteps(
  broker: MessageBroker,
  view: JobView,
  h: FlowHeader,
): Promise<FlowStepView[]> {
  const own: Omit<FlowStepView, "state">[] =
    h.b === undefined
      ? [{ stage: h.i, actor: view.message.topic, queue: view.message.queue, id: view.message.id }]
      : Array.from({ length: h.n ?? 0 }, (_, b) => ({
          stage: h.i,
          branch: b,
          actor: h.ba?.[b] ?? "?",
          queue: h.bq?.[b] ?? view.message.queue,
          id: stepId(h.f, h.i, b),
        }));
  const later = h.next.map((step, k) => ({
    stage: h.i + 1 + k,
    actor: step.a,
    queue: step.q,
    id: stepId(h.f, h.i + 1 + k),
  }));
  const steps: FlowStepView[] = await Promise.all(
    [...own, ...later].map(async (step) => ({
      ...step,
      state: step.id === view.message.id ? view.state : await stateOf(broker, step),
    })),
  );
  // A step whose result went with its hand-over left no trace: a step of a later stage that
  // exists says it succeeded (branches of one stage run side by side and say nothing of each
  // other).
  const reached = Math.max(-1, ...steps.filter((s) => s.state !== "pending").map((s) => s.stage));
  return steps.map((s) =>
    s.state === "pending" && s.stage < reached ? { ...s, state: "succeeded" } : s,
  );
}

async function stateOf(
  broker: MessageBroker,
  step: { readonly id: string; readonly queue: string },
): Promise<FlowStepView["state"]> {
  const job = await broker.admin?.job(step.queue, step.id).catch(() => undefined);
  if (job) return job.state;
  const kept = await broker.readResult?.(step.id, { queue: step.queue }).catch(() => undefined);
  if (kept) return kept.ok ? "succeeded" : "failed";
  return "pending";
}

/** The progress value, or nothing when its text is no JSON (another program wrote it). */
function parse(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

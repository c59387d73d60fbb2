/** The human renderings of admin results: table rows and job details. */
import type { FlowPlace, FlowStepView, JobView, QueueInfo } from "../brokers/admin.js";
import type { HeldBy, ScheduleInfo } from "../brokers/broker.js";
import type { FinishedJob, JobDetails } from "./operations.js";
import { fields, time } from "./output.js";

type Rows = [header: string[], rows: string[][]];

/**
 * One row per queue; LIMITED counts the jobs due but waiting for a limit of their actor (not in
 * READY); a PROBLEM column only when a queue's data could not be read.
 */
export function queueRows(queues: readonly QueueInfo[]): Rows {
  const problems = queues.some((q) => q.problem !== undefined);
  return [
    [
      "QUEUE",
      "PAUSED",
      "READY",
      "LIMITED",
      "DELAYED",
      "RUNNING",
      "DEAD",
      ...(problems ? ["PROBLEM"] : []),
    ],
    queues.map((q) => {
      const c = q.counts;
      return [
        q.name,
        q.paused ? "yes" : "no",
        ...(q.problem === undefined
          ? [c.ready, c.limited ?? 0, c.delayed, c.running, c.dead].map(String)
          : ["-", "-", "-", "-", "-"]),
        ...(problems ? [q.problem ?? ""] : []),
      ];
    }),
  ];
}

/** Which limit holds a waiting job: `concurrency limit 2 for key "acc-1"`. */
export function heldByText(held: HeldBy): string {
  const limit =
    held.limit === "concurrency"
      ? `concurrency limit ${held.max}`
      : `rate limit ${held.max} per window`;
  return held.key === "" ? limit : `${limit} for key ${JSON.stringify(held.key)}`;
}

export function jobRows(jobs: readonly JobView[]): Rows {
  return [
    ["ID", "ACTOR", "STATE", "ATTEMPT", "ENQUEUED", "AT", "ERROR"],
    jobs.map((j) => [
      j.message.id,
      j.message.topic,
      j.cancelling ? "running (cancelling)" : j.state,
      String(j.message.attempt),
      time(j.message.enqueuedAt) ?? "",
      time(stateTime(j)) ?? "",
      j.error
        ? `${j.error.code ? `${j.error.code} ` : ""}${j.error.name}: ${firstLine(j.error.message)}`
        : "",
    ]),
  ];
}

export function scheduleRows(schedules: readonly ScheduleInfo[]): Rows {
  return [
    ["ID", "QUEUE", "ACTOR", "SCHEDULE", "NEXT RUN", "STATE"],
    schedules.map((s) => [
      s.id,
      s.queue,
      s.topic,
      s.schedule.cron !== undefined
        ? `cron ${s.schedule.cron}`
        : `every ${s.schedule.everyMs ?? "?"} ms`,
      time(s.nextRunAt) ?? "",
      s.state,
    ]),
  ];
}

/** A job in full: the `repid job` output. */
export function describeJob(job: JobDetails | FinishedJob): string {
  if (job.state === "finished") {
    return fields([
      ["id", job.id],
      [
        "state",
        "finished (its message is gone; the stored result is kept for its storeResult time)",
      ],
      ["result", resultText(job.result)],
    ]);
  }
  const m = job.message;
  const text = fields([
    ["id", m.id],
    ["queue", m.queue],
    ["actor", m.topic],
    ["state", job.cancelling ? "running (cancelling)" : job.state],
    ["held by", job.heldBy ? heldByText(job.heldBy) : undefined],
    ["attempt", `${m.attempt} of ${m.retries + 1}`],
    ["progress", job.progress === undefined ? undefined : JSON.stringify(job.progress)],
    ["flow", job.flow ? flowText(job.flow) : undefined],
    ["steps", job.flow?.steps ? stepsText(job.flow.steps) : undefined],
    ["priority", String(m.priority)],
    ["enqueued", time(m.enqueuedAt)],
    ["runs at", job.state === "delayed" ? time(m.executeAt) : undefined],
    ["lease until", time(job.leaseUntil)],
    ["failed at", time(job.failedAt)],
    ["schedule", m.schedule ? JSON.stringify(m.schedule) : undefined],
    ["args", m.payload ?? "(none)"],
    [
      "error",
      job.error
        ? `${job.error.code ? `[${job.error.code}] ` : ""}${job.error.name}: ${job.error.message}`
        : undefined,
    ],
    ["result", job.result ? resultText(job.result) : undefined],
  ]);
  const stack = job.error?.stack ? `\n${job.error.stack}\n` : "";
  return text + stack;
}

/** The steps a flow step knows of: `0.0 resize running, 0.1 resize ready, 1 zip_files pending`. */
function stepsText(steps: readonly FlowStepView[]): string {
  return steps
    .map((s) => `${s.stage}${s.branch === undefined ? "" : `.${s.branch}`} ${s.actor} ${s.state}`)
    .join(", ");
}

/** A step's place in its flow, as its job id numbers it: `f1 step 0.2`. */
function flowText(flow: FlowPlace): string {
  return `${flow.id} step ${flow.stage}${flow.branch === undefined ? "" : `.${flow.branch}`}`;
}

function resultText(result: NonNullable<JobDetails["result"]>): string {
  return result.ok
    ? `ok ${result.value ?? "(no value)"}`
    : `failed after ${result.attempts} attempt(s): ${result.error.message}`;
}

function stateTime(job: JobView): number | undefined {
  if (job.state === "delayed") return job.message.executeAt;
  if (job.state === "running") return job.leaseUntil;
  if (job.state === "dead") return job.failedAt;
  return undefined;
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0]!;
}

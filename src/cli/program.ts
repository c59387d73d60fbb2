import { Command, InvalidArgumentError, Option } from "commander";
import { Admin } from "../ops/admin.js";
import { MESSAGE_STATES, type MessageState } from "../brokers/admin.js";
import { InvalidOptionError } from "../core/errors.js";
import { ExitCode } from "./exit-codes.js";
import { describeJob, jobRows, queueRows, scheduleRows } from "./render.js";
import { enqueueActor, jobDetails } from "./operations.js";
import { json, table } from "./output.js";
import type { CliSession, GlobalOptions } from "./session.js";
import { loadRegistry } from "./registry-loader.js";

type Action = (
  session: CliSession,
  options: GlobalOptions & Record<string, unknown>,
  ...args: string[]
) => Promise<number>;

const EXIT_HELP = `
Exit codes:
  0  ok
  1  the operation failed or found nothing (unknown job, undeclared queue, ...)
  2  usage error (unknown command or option, missing argument, bad JSON)
  3  enqueue: the arguments do not match the actor's schema
  4  the broker cannot be reached or has no admin operations`;

/** Builds the `repid` command; `done(code)` receives each action's exit code. */
export function buildProgram(session: CliSession, done: (code: number) => void): Command {
  const program = new Command("repid")
    .description(
      "Operate repid queues: list, inspect, cancel, replay, pause, enqueue, dashboard, migrate.",
    )
    .configureOutput({
      writeOut: (s) => void session.stdout.write(s),
      writeErr: (s) => void session.stderr.write(s),
    })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .option("--redis <url>", "Redis URL (default: $REDIS_URL)")
    .option("--prefix <prefix>", "key prefix of the Redis broker (default: repid)")
    .option("--postgres <url>", "Postgres URL, for the Postgres broker (default: $POSTGRES_URL)")
    .option("--schema <schema>", "schema of the Postgres broker (default: repid)")
    .option("--json", "print JSON for scripts instead of tables")
    .addHelpText("after", EXIT_HELP);

  const act =
    (action: Action) =>
    async (...params: unknown[]): Promise<void> => {
      const command = params.at(-1) as Command;
      const args = params.slice(0, -2) as string[];
      done(await action(session, command.optsWithGlobals(), ...args));
    };

  program
    .command("queues")
    .description("declared queues with their counts and pause flag")
    .action(
      act(async (s, o) => {
        const queues = await (await admin(s, o)).queues();
        s.stdout.write(o.json ? json(queues) : table(...queueRows(queues)));
        return queues.some((q) => q.problem !== undefined) ? ExitCode.BAD_DATA : ExitCode.OK;
      }),
    );

  program
    .command("jobs <queue>")
    .description("one page of a queue's jobs in one state")
    .addOption(
      new Option("--state <state>", "which jobs").choices(MESSAGE_STATES).makeOptionMandatory(),
    )
    .option("--limit <n>", "jobs per page (default: 50)", positiveInt)
    .option("--cursor <cursor>", "the page after the one that printed this cursor")
    .action(
      act(async (s, o, queue) => {
        const page = await (
          await admin(s, o)
        ).jobs(queue!, o.state as MessageState, {
          ...(o.limit !== undefined ? { limit: o.limit as number } : {}),
          ...(o.cursor !== undefined ? { cursor: o.cursor as string } : {}),
        });
        if (o.json) s.stdout.write(json(page));
        else {
          s.stdout.write(table(...jobRows(page.items)));
          if (page.next !== undefined) {
            s.stdout.write(`next page: --cursor ${page.next}\n`);
          }
        }
        return ExitCode.OK;
      }),
    );

  program
    .command("job <id>")
    .description(
      "a job by id in any state: actor, attempt, progress, flow step, times, error, stored result",
    )
    .option("--queue <queue>", "look only in this queue (default: every queue)")
    .action(
      act(async (s, o, id) => {
        const found = await jobDetails(await admin(s, o), await s.connection(o), id!, opt(o.queue));
        if (!found) {
          s.stderr.write(
            `repid: job "${id}" not found: it is not waiting, delayed, running or dead, and no result of it is stored (a result is kept for its job's storeResult time, then it expires)\n`,
          );
          return ExitCode.FAILED;
        }
        s.stdout.write(o.json ? json(found) : describeJob(found));
        return ExitCode.OK;
      }),
    );

  program
    .command("cancel <queue> <id>")
    .description(
      "cancel a job: removed when waiting or delayed; when running, its worker aborts ctx.signal " +
        "at its next lease renewal and it ends dead-lettered as CANCELLED (or acked with --ack); " +
        "never retried",
    )
    .option("--ack", "end a running job acked instead of dead-lettered")
    .action(
      act(async (s, o, queue, id) => {
        const mode = o.ack ? "ack" : "dead";
        const outcome = await (await admin(s, o)).cancel(queue!, id!, mode);
        if (o.json) s.stdout.write(json({ id, queue, outcome, mode }));
        else if (outcome === "removed") s.stdout.write(`removed ${id} (it was waiting)\n`);
        else if (outcome === "cancelling") {
          const end = mode === "ack" ? "acked" : "dead-lettered as CANCELLED";
          s.stdout.write(`cancelling ${id}: its worker aborts it and it ends ${end}\n`);
        }
        if (outcome !== "not-found") return ExitCode.OK;
        if (!o.json) s.stderr.write(`repid: no job "${id}" waiting or running in "${queue}"\n`);
        return ExitCode.FAILED;
      }),
    );

  program
    .command("replay <queue>")
    .description("dead letters back to ready with attempt 1")
    .option("--id <ids...>", "these dead letters")
    .option("--all", "every dead letter of the queue")
    .action(act(deadLetterAction("replay")));

  program
    .command("delete-dead <queue>")
    .description("delete dead letters for good")
    .option("--id <ids...>", "these dead letters")
    .option("--all", "every dead letter of the queue")
    .action(act(deadLetterAction("deleteDead")));

  for (const verb of ["pause", "resume"] as const) {
    program
      .command(`${verb} <queue>`)
      .description(
        verb === "pause"
          ? "workers take nothing from the queue until resumed; running jobs finish"
          : "workers take from the queue again",
      )
      .action(
        act(async (s, o, queue) => {
          await (await admin(s, o))[verb](queue!);
          s.stdout.write(
            o.json ? json({ queue, paused: verb === "pause" }) : `${verb}d ${queue}\n`,
          );
          return ExitCode.OK;
        }),
      );
  }

  program
    .command("schedules [queue]")
    .description("periodic jobs of a queue, or of every queue")
    .action(
      act(async (s, o, queue) => {
        const schedules = await (await admin(s, o)).schedules(queue);
        s.stdout.write(o.json ? json(schedules) : table(...scheduleRows(schedules)));
        return ExitCode.OK;
      }),
    );

  program
    .command("remove-schedule <queue> <id>")
    .description("remove a periodic job (a run in progress finishes, and is not rescheduled)")
    .action(
      act(async (s, o, queue, id) => {
        const removed = await (await admin(s, o)).removeSchedule(queue!, id!);
        if (o.json) s.stdout.write(json({ queue, id, removed }));
        else if (removed) s.stdout.write(`removed schedule ${id}\n`);
        else s.stderr.write(`repid: no schedule "${id}" in "${queue}"\n`);
        return removed ? ExitCode.OK : ExitCode.FAILED;
      }),
    );

  program
    .command("enqueue <actor>")
    .description("enqueue a job, its arguments validated by the actor's schema in the registry")
    .option("--args <json>", "the arguments as JSON (default: none)")
    .option("--queue <queue>", "another queue than the actor's")
    .option("--registry <path>", "the generated registry module (default: $REPID_REGISTRY)")
    .action(
      act(async (s, o, actor) => {
        const path = opt(o.registry) ?? s.env.REPID_REGISTRY;
        if (!path)
          throw new InvalidOptionError("registry", "pass --registry <path> or set REPID_REGISTRY");
        const registry = await loadRegistry(path, s.cwd);
        const args = o.args === undefined ? undefined : parseJson(o.args as string);
        const queue = opt(o.queue);
        const done = await enqueueActor(await s.connection(o), registry, actor!, args, { queue });
        s.stdout.write(
          o.json ? json(done) : `enqueued ${done.id} (${done.actor} on ${done.queue})\n`,
        );
        return ExitCode.OK;
      }),
    );

  program
    .command("migrate")
    .description(
      "create or migrate the Postgres broker's schema, as workers do at connect, and exit " +
        "(for deploy steps; workers then run with migrate: false)",
    )
    .action(
      act(async (s, o) => {
        const { migrateCommand } = await import("./migrate.js");
        return migrateCommand(s, o);
      }),
    );

  program
    .command("dashboard")
    .description("serve the web dashboard")
    .option("--registry <path>", "a generated registry: its actors, schemas and enqueue form")
    .option("--port <port>", "port (0: any free one)", portNumber, 4000)
    .option("--host <host>", "address to bind; beyond loopback a token is required", "127.0.0.1")
    .option("--token <token>", "required on every request (default: $REPID_DASHBOARD_TOKEN)")
    .action(
      act(async (s, o) => {
        const { serveFromCli } = await import("./dashboard/cli-serve.js");
        return serveFromCli(s, o);
      }),
    );

  return program;
}

async function admin(session: CliSession, options: GlobalOptions): Promise<Admin> {
  return new Admin(await session.connection(options));
}

function deadLetterAction(operation: "replay" | "deleteDead"): Action {
  return async (s, o, queue) => {
    const ids = o.id as string[] | undefined;
    if ((ids === undefined) === (o.all === undefined)) {
      throw new InvalidOptionError("id", "pass --id <ids...> or --all (one of them)");
    }
    const count = await (await admin(s, o))[operation](queue!, ids);
    const verb = operation === "replay" ? "replayed" : "deleted";
    if (o.json) s.stdout.write(json({ queue, [verb]: count }));
    else s.stdout.write(`${verb} ${count} dead letter${count === 1 ? "" : "s"} of ${queue}\n`);
    if (ids !== undefined && count < ids.length) {
      s.stderr.write(
        `repid: ${ids.length - count} of the given ids were not dead letters of "${queue}"\n`,
      );
      return ExitCode.FAILED;
    }
    return ExitCode.OK;
  };
}

function opt(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidOptionError("args", `not JSON: ${(error as Error).message}`);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("a positive integer");
  return n;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("a port 0-65535");
  return n;
}

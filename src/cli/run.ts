import { CommanderError } from "commander";
import type { Connection } from "../connection/connection.js";
import { BrokerError, RepidError } from "../core/errors.js";
import { openBroker, type OpenedConnection } from "./connect.js";
import { ExitCode } from "./exit-codes.js";
import type { Writable } from "./output.js";
import { buildProgram } from "./program.js";
import type { CliSession, GlobalOptions } from "./session.js";

/** Where `runCli` writes and what it connects to. */
export interface RunCliOptions {
  /**
   * Use this connection instead of `--redis`/`REDIS_URL` or `--postgres`/`POSTGRES_URL` (tests,
   * embedding); it is left open.
   * @defaultValue a connection opened from those options, closed at the end
   */
  readonly connection?: Connection;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** @defaultValue `process.env` */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths (`--registry`) resolve from. @defaultValue `process.cwd()` */
  readonly cwd?: string;
  /** Stops a running `repid dashboard`. @defaultValue none: it serves until the process ends */
  readonly signal?: AbortSignal;
}

/**
 * Runs the `repid` command line (`argv` without the node and script paths) and resolves with its
 * exit code (see `ExitCode`); never exits the process and writes only to `stdout`/`stderr`.
 * @example
 * const code = await runCli(["queues", "--json"], { connection, stdout, stderr });
 */
export async function runCli(argv: readonly string[], options: RunCliOptions): Promise<number> {
  let opened: Promise<OpenedConnection> | undefined;
  const session: CliSession = {
    stdout: options.stdout,
    stderr: options.stderr,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal,
    async connection(globals: GlobalOptions) {
      if (options.connection) return options.connection;
      opened ??= openBroker(globals, session.env, options.stderr).catch((error: unknown) => {
        if (error instanceof RepidError && error.code !== "BROKER") throw error;
        throw new BrokerError(`cannot reach the broker: ${message(error)}`, { cause: error });
      });
      return (await opened).connection;
    },
  };
  let code: number = ExitCode.OK;
  try {
    await buildProgram(session, (c) => (code = c)).parseAsync([...argv], { from: "user" });
  } catch (error) {
    code = report(error, options.stderr);
  } finally {
    if (opened) await opened.then((o) => o.close()).catch(() => {});
  }
  return code;
}

function report(error: unknown, stderr: Writable): number {
  if (error instanceof CommanderError) {
    // Commander already printed the usage error (or the help, or the version).
    return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  }
  stderr.write(`repid: ${message(error)}\n`);
  if (!(error instanceof RepidError)) return ExitCode.FAILED;
  switch (error.code) {
    case "INVALID_OPTION":
    case "INVALID_DURATION":
      return ExitCode.USAGE;
    case "VALIDATION":
      return ExitCode.INVALID_ARGS;
    case "BROKER":
    case "NOT_SUPPORTED":
    case "PEER_DEPENDENCY":
      return ExitCode.UNAVAILABLE;
    default:
      return ExitCode.FAILED;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

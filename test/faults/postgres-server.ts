/**
 * Throwaway PostgreSQL servers for the fault-injection suite, as ./redis-server.ts does for
 * Redis: `initdb` into a fresh temporary directory, a free loopback port, its unix socket in that
 * directory, started, restarted and stopped with `pg_ctl` (as the `postgres` OS user when we run
 * as root: Postgres refuses to run as root). The shared Postgres on 5432 is never touched.
 *
 * The binaries are those of Debian's `postgresql` package (/usr/lib/postgresql/<version>/bin,
 * the newest version there); `postgresBinaries` says why there are none, for the skip message.
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./redis-server.js";

const run = promisify(execFile);
const ROOT = "/usr/lib/postgresql";

/** The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or why there is none. */
export function postgresBinaries(): { bin: string } | { problem: string } {
  const versions = existsSync(ROOT)
    ? readdirSync(ROOT)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const bin = join(ROOT, v, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl"))) return { bin };
  }
  return { problem: `no initdb and pg_ctl under ${ROOT}/*/bin (Debian's postgresql package)` };
}

/** As root, the Postgres commands run as the `postgres` OS user (uid and gid from `id`). */
async function osUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
  const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
  return { uid, gid };
}

export interface ThrowawayPostgres {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  readonly url: string;
  readonly dir: string;
  /**
   * `pg_ctl restart -m <mode>`, waiting until the server accepts connections again; resolves
   * with the local time (epoch ms) at which it did (pg_ctl's wait ended).
   */
  restart(mode: "smart" | "fast" | "immediate"): Promise<number>;
  /** `pg_ctl stop -m <mode>`, keeping its directory for `start`. */
  shutdown(mode: "smart" | "fast" | "immediate"): Promise<void>;
  /** `pg_ctl start` again after `shutdown`, waiting until it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good (`-m immediate`, then SIGKILL of the postmaster if needed) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * `initdb`s and starts a server. `settings` are extra postgresql.conf lines' key/values;
 * fsync is off by default: a throwaway, and a restart, even `-m immediate` (the postmaster and
 * its backends killed, crash recovery from the WAL at the next start), loses nothing the clients
 * were told was committed, since each commit's WAL was written to the OS before its reply; only
 * an OS crash would lose what was not flushed.
 */
export async function startPostgres(
  settings: Readonly<Record<string, string>> = {},
): Promise<ThrowawayPostgres> {
  const found = postgresBinaries();
  if ("problem" in found) throw new Error(found.problem);
  const { bin } = found;
  const user = await osUser();
  // The postgres user must reach the directory: a TMPDIR under /root would not do.
  const base =
    user &&
    !(await run("runuser", ["-u", "postgres", "--", "test", "-x", tmpdir()]).then(
      () => true,
      () => false,
    ))
      ? "/tmp"
      : tmpdir();
  const dir = mkdtempSync(join(base, "repid-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  if (user) chownSync(dir, user.uid, user.gid);
  const as = (cmd: string, args: string[]) =>
    user
      ? run("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args])
      : run(join(bin, cmd), args);
  const port = await freePort();
  await as("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
  const conf: Record<string, string> = {
    port: String(port),
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: `'${dir}'`,
    // Not synchronous_commit = off: a commit's WAL must reach the OS before its reply, or an
    // immediate stop loses commits the clients were told of.
    fsync: "off",
    max_connections: "100",
    shared_buffers: "'32MB'",
    ...settings,
  };
  // Appended: the last setting of a key wins. Written by root into a file postgres owns (its mode
  // stays 0600 owner postgres: appendFileSync keeps the owner).
  appendFileSync(
    join(data, "postgresql.conf"),
    `\n# repid throwaway\n${Object.entries(conf)
      .map(([k, v]) => `${k} = ${v}`)
      .join("\n")}\n`,
  );
  const ctl = (args: string[]) => as("pg_ctl", ["-D", data, "-l", log, "-w", "-t", "60", ...args]);
  try {
    await ctl(["start"]);
  } catch (error) {
    const text = existsSync(log) ? readFileSync(log, "utf8") : "";
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `the throwaway Postgres on port ${port} did not start: ${String(error)}\n${text}`,
    );
  }
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    async restart(mode) {
      await ctl(["restart", "-m", mode]);
      return Date.now();
    },
    async shutdown(mode) {
      await ctl(["stop", "-m", mode]);
    },
    async start() {
      await ctl(["start"]);
    },
    async stop() {
      await ctl(["stop", "-m", "immediate"]).catch(() => {
        // pg_ctl could not stop it: the postmaster's pid is the first line of postmaster.pid.
        const pidFile = join(data, "postmaster.pid");
        if (!existsSync(pidFile)) return;
        const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
        if (pid > 0) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { Command, type Pipeline, type Redis } from "ioredis";
import { groupBySlot, isCluster, masters, type RedisClient } from "./cluster.js";
import { splitPrelude, withPrelude } from "./script-prelude.js";
import { mapped } from "../../core/arrays.js";

/** The broker's Lua scripts, one `.lua` file each under `./scripts/`. */
export type ScriptName =
  | "enqueue"
  | "enqueue-one"
  | "receive"
  | "settle"
  | "renew"
  | "counts"
  | "flush"
  | "heartbeat"
  | "schedules"
  | "remove-schedule"
  | "peek"
  | "admin-job"
  | "admin-cancel"
  | "admin-dead"
  | "declare-limits";

const NAMES: readonly ScriptName[] = [
  "enqueue",
  "enqueue-one",
  "receive",
  "settle",
  "renew",
  "counts",
  "flush",
  "heartbeat",
  "schedules",
  "remove-schedule",
  "peek",
  "admin-job",
  "admin-cancel",
  "admin-dead",
  "declare-limits",
];

/**
 * Scripts that must run when Redis is out of memory (Redis 7 script flags): everything that
 * drains or inspects a queue. Only enqueues are refused under OOM, with Redis's own OOM error.
 */
const ALLOW_OOM: ReadonlySet<ScriptName> = new Set(
  NAMES.filter((n) => n !== "enqueue" && n !== "enqueue-one"),
);

export interface Script {
  readonly lua: string;
  readonly sha: string;
}

/** One script call: which script, its keys and its arguments. */
export interface ScriptCall {
  readonly script: ScriptName;
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
  /** The call's memo key (one of `keys`), for receive and settle calls that keep one. */
  readonly memo?: string;
}

/**
 * One script call. Every call is made here, so that all have one shape (the same properties in
 * the same order): the functions that send them see one kind of object from the first call on,
 * and V8 does not throw away their optimized code when a new kind shows up mid-run.
 */
export function scriptCall(
  script: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
  memo?: string,
): ScriptCall {
  return { script, keys, args, memo };
}

/** Outcome of one call of a pipelined batch: a reply or the error it raised. */
export type CallOutcome =
  | { readonly ok: true; readonly value: unknown; readonly error?: undefined }
  | { readonly ok: false; readonly value?: undefined; readonly error: Error };

/** A reply as an outcome (both kinds of outcome have one shape, as calls do). */
export function replied(value: unknown): CallOutcome {
  return { ok: true, value, error: undefined };
}

/** An error as an outcome. */
export function failed(error: unknown): CallOutcome {
  return {
    ok: false,
    value: undefined,
    error: error instanceof Error ? error : new Error(String(error)),
  };
}

const sources = new Map<boolean, ReadonlyMap<ScriptName, Script>>();

// From `src/` the scripts sit next to this module; from the built `dist/src/...` the package
// ships them at `src/brokers/redis/scripts` (see `files` in package.json).
function scriptsDir(): URL {
  const local = new URL("./scripts/", import.meta.url);
  if (existsSync(new URL("common.lua", local))) return local;
  return new URL("../../../../src/brokers/redis/scripts/", import.meta.url);
}

/** The scripts' sources, with Redis 7 flags (`#!lua flags=allow-oom`) or without (Redis 6). */
export function loadScripts(withFlags: boolean): ReadonlyMap<ScriptName, Script> {
  const known = sources.get(withFlags);
  if (known) return known;
  const dir = scriptsDir();
  const prelude = splitPrelude(
    [
      readFileSync(new URL("common.lua", dir), "utf8"),
      readFileSync(new URL("limits.lua", dir), "utf8"),
    ].join("\n"),
  );
  const map = new Map<ScriptName, Script>();
  for (const name of NAMES) {
    const body = withPrelude(prelude, readFileSync(new URL(`${name}.lua`, dir), "utf8"));
    const lua = withFlags && ALLOW_OOM.has(name) ? `#!lua flags=allow-oom\n${body}` : body;
    map.set(name, { lua, sha: createHash("sha1").update(lua).digest("hex") });
  }
  sources.set(withFlags, map);
  return map;
}

/** Where the keep-alive thread's source lives (plain JS, shipped beside the scripts). */
export function keepAliveThreadUrl(): URL {
  return new URL("keep-alive-thread.js", scriptsDir());
}

/**
 * Whether EVALSHA may go to the client as a `Command` built here (see `evalsha`): not when the
 * client adds a key prefix, pipelines automatically or keeps friendly error stacks, which
 * ioredis's own `evalsha` arranges.
 */
const plainClients = new WeakMap<RedisClient, boolean>();

function isPlain(client: RedisClient): boolean {
  let plain = plainClients.get(client);
  if (plain === undefined) {
    const o = client.options as {
      keyPrefix?: unknown;
      enableAutoPipelining?: unknown;
      showFriendlyErrorStack?: unknown;
    };
    plain = !o.keyPrefix && !o.enableAutoPipelining && !o.showFriendlyErrorStack;
    plainClients.set(client, plain);
  }
  return plain;
}

/**
 * EVALSHA of one call. ioredis's `evalsha` builds its `Command` from the arguments with
 * `Array.prototype.flat`, about 130 ns per argument in Node 20: 2.5 of the 5.5 µs it took to
 * send an enqueue's 19 arguments. The command is built here with no arguments, then given the
 * flat list of strings (what ioredis's own flattening and stringifying would have made of them).
 */
function evalsha(client: RedisClient, sha: string, call: ScriptCall): Promise<unknown> {
  if (!isPlain(client)) return client.evalsha(sha, call.keys.length, ...call.keys, ...call.args);
  const command = evalshaCommand(sha, call);
  void client.sendCommand(command);
  return command.promise;
}

/** The EVALSHA `Command` of one call (for a plain client: see `evalsha`). */
function evalshaCommand(sha: string, call: ScriptCall): Command {
  const { keys, args } = call;
  const flat = new Array<string>(2 + keys.length + args.length);
  flat[0] = sha;
  flat[1] = String(keys.length);
  let at = 2;
  for (const key of keys) flat[at++] = key;
  for (const arg of args) flat[at++] = typeof arg === "string" ? arg : String(arg);
  const command = new Command("evalsha", [], { replyEncoding: "utf8" });
  command.args = flat;
  return command;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/**
 * Runs the scripts by SHA (EVALSHA). A script missing from the server's cache (a restarted or
 * flushed Redis) is loaded again with SCRIPT LOAD and the call retried once; a call that failed
 * with NOSCRIPT never ran, so the retry cannot apply anything twice.
 */
export class ScriptRunner {
  #scripts = loadScripts(true);

  /** Redis before 7 knows no script flags: the scripts are then sent without them. */
  useFlags(supported: boolean): void {
    this.#scripts = loadScripts(supported);
  }

  /** Source and SHA of one script (the keep-alive thread runs `heartbeat` on its own). */
  source(name: ScriptName): Script {
    return this.#get(name);
  }

  /** Loads every script into the server's cache (one round trip; on a cluster, every master's). */
  async loadAll(client: RedisClient): Promise<void> {
    await Promise.all(masters(client).map((node) => this.#load(node)));
  }

  async #load(client: Redis): Promise<void> {
    const pipeline = client.pipeline();
    for (const s of this.#scripts.values()) pipeline.script("LOAD", s.lua);
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
  }

  async run(client: RedisClient, call: ScriptCall): Promise<unknown> {
    const script = this.#get(call.script);
    try {
      return await evalsha(client, script.sha, call);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      // On a cluster, EVAL reaches (and loads the script on) the node of the call's slot.
      if (isCluster(client))
        return client.eval(script.lua, call.keys.length, ...call.keys, ...call.args);
      await client.script("LOAD", script.lua);
      return client.evalsha(script.sha, call.keys.length, ...call.keys, ...call.args);
    }
  }

  /**
   * Runs the calls in one pipeline (one round trip); outcomes in call order. On a cluster, which
   * pipelines only within one slot, one pipeline per slot, all sent at once.
   */
  async runMany(client: RedisClient, calls: readonly ScriptCall[]): Promise<CallOutcome[]> {
    if (isCluster(client) && calls.length > 1) {
      const groups = groupBySlot(calls, (c) => c.keys[0] ?? "");
      if (groups.length > 1) {
        const outcomes = new Array<CallOutcome>(calls.length);
        await Promise.all(
          groups.map(async (group) => {
            const got = await this.runMany(
              client,
              group.map((i) => calls[i]!),
            ).catch((error: unknown): CallOutcome[] => {
              const outcome = failed(error);
              return group.map(() => outcome);
            });
            group.forEach((i, k) => (outcomes[i] = got[k]!));
          }),
        );
        return outcomes;
      }
    }
    if (calls.length === 1) {
      try {
        return [replied(await this.run(client, calls[0]!))];
      } catch (error) {
        return [failed(error)];
      }
    }
    let outcomes = await this.#pipeline(client, calls);
    const missing = outcomes.flatMap((o, i) => (!o.ok && isNoScript(o.error) ? [i] : []));
    if (missing.length > 0) {
      await this.loadAll(client);
      const retried = await this.#pipeline(
        client,
        missing.map((i) => calls[i]!),
      );
      outcomes = outcomes.slice();
      missing.forEach((i, k) => (outcomes[i] = retried[k]!));
    }
    return outcomes;
  }

  async #pipeline(client: RedisClient, calls: readonly ScriptCall[]): Promise<CallOutcome[]> {
    const pipeline = client.pipeline();
    const plain = isPlain(client);
    for (const call of calls) {
      const sha = this.#get(call.script).sha;
      // `pipeline()` is typed as a chain of commands; it is a Pipeline, which takes Commands.
      if (plain) (pipeline as unknown as Pipeline).sendCommand(evalshaCommand(sha, call));
      else pipeline.evalsha(sha, call.keys.length, ...call.keys, ...call.args);
    }
    const replies = (await pipeline.exec()) ?? [];
    return mapped(calls, (_, i) => {
      const reply = replies[i];
      if (!reply) return failed(new Error("No reply from Redis"));
      const [error, value] = reply;
      return error ? failed(error) : replied(value);
    });
  }

  #get(name: ScriptName): Script {
    return this.#scripts.get(name)!;
  }
}

/** The dashboard's JSON API: each route is one `Admin` operation (or one of `../operations`). */
import type { Admin } from "../../ops/admin.js";
import { MESSAGE_STATES, type CancelMode, type MessageState } from "../../brokers/admin.js";
import type { Connection } from "../../connection/connection.js";
import { InvalidOptionError, RepidError, ValidationError } from "../../core/errors.js";
import type { Registry } from "../../core/registry.js";
import { actorSchemas, enqueueActor, jobDetails } from "../operations.js";
import type { CountSampler } from "./sampler.js";

/** What the routes work with. */
export interface ApiContext {
  readonly admin: Admin;
  readonly connection: Connection;
  readonly registry: Registry | undefined;
  readonly sampler: CountSampler;
  readonly sampleEveryMs: number;
}

/** An API answer: a status and a JSON body. */
export interface ApiReply {
  readonly status: number;
  readonly body: unknown;
}

type Handler = (
  ctx: ApiContext,
  params: string[],
  query: URLSearchParams,
  body: Record<string, unknown>,
) => Promise<ApiReply | unknown>;

const routes: [method: string, pattern: RegExp, handler: Handler][] = [
  [
    "GET",
    /^queues$/,
    async (ctx) => ({
      sampleEveryMs: ctx.sampleEveryMs,
      queues: (await ctx.admin.queues()).map((q) => ({
        ...q,
        history: ctx.sampler.history(q.name),
      })),
    }),
  ],
  [
    "GET",
    /^queues\/([^/]+)\/jobs$/,
    async (ctx, [queue], query) => {
      const state = query.get("state") ?? "ready";
      if (!(MESSAGE_STATES as readonly string[]).includes(state)) {
        throw new InvalidOptionError("state", `one of ${MESSAGE_STATES.join(", ")}`);
      }
      const limit = query.get("limit");
      const cursor = query.get("cursor");
      if (limit !== null && !/^[1-9]\d{0,5}$/.test(limit)) {
        throw new InvalidOptionError("limit", "a whole number from 1 to 999999");
      }
      return ctx.admin.jobs(queue!, state as MessageState, {
        ...(limit ? { limit: Number(limit) } : {}),
        ...(cursor ? { cursor } : {}),
      });
    },
  ],
  [
    "GET",
    /^jobs\/([^/]+)$/,
    async (ctx, [id], query) => {
      // No job has a blank id (`Job` refuses one): a malformed request, not an unknown job.
      if (id!.trim() === "") throw new InvalidOptionError("id", "a job id, not blank");
      const found = await jobDetails(
        ctx.admin,
        ctx.connection,
        id!,
        query.get("queue") || undefined,
      );
      return found ?? reply(404, { error: `job "${id}" not found`, code: "NOT_FOUND" });
    },
  ],
  [
    "POST",
    /^queues\/([^/]+)\/jobs\/([^/]+)\/cancel$/,
    async (ctx, [queue, id], _q, body) => {
      const mode: CancelMode = body.mode === "ack" ? "ack" : "dead";
      const outcome = await ctx.admin.cancel(queue!, id!, mode);
      return reply(outcome === "not-found" ? 404 : 200, { outcome, mode });
    },
  ],
  [
    "POST",
    /^queues\/([^/]+)\/replay$/,
    async (ctx, [queue], _q, body) => ({
      replayed: await ctx.admin.replay(queue!, chosen(body)),
    }),
  ],
  [
    "POST",
    /^queues\/([^/]+)\/delete-dead$/,
    async (ctx, [queue], _q, body) => ({
      deleted: await ctx.admin.deleteDead(queue!, chosen(body)),
    }),
  ],
  [
    "POST",
    /^queues\/([^/]+)\/(pause|resume)$/,
    async (ctx, [queue, verb]) => {
      await (verb === "pause" ? ctx.admin.pause(queue!) : ctx.admin.resume(queue!));
      return { paused: verb === "pause" };
    },
  ],
  [
    "GET",
    /^schedules$/,
    async (ctx, _p, query) => ctx.admin.schedules(query.get("queue") || undefined),
  ],
  [
    "POST",
    /^queues\/([^/]+)\/schedules\/([^/]+)\/remove$/,
    async (ctx, [queue, id]) => {
      const removed = await ctx.admin.removeSchedule(queue!, id!);
      return reply(removed ? 200 : 404, { removed });
    },
  ],
  ["GET", /^actors$/, async (ctx) => (ctx.registry ? actorSchemas(ctx.registry) : [])],
  [
    "POST",
    /^actors\/([^/]+)\/enqueue$/,
    async (ctx, [actor], _q, body) => {
      if (!ctx.registry) throw new InvalidOptionError("registry", "the dashboard has no registry");
      const queue = typeof body.queue === "string" && body.queue ? body.queue : undefined;
      const enqueued = await enqueueActor(ctx.connection, ctx.registry, actor!, body.args, {
        queue,
      });
      return reply(201, enqueued);
    },
  ],
];

/** Answers one API request (`path` is relative to `/api/`); unknown routes get 404. */
export async function answer(
  ctx: ApiContext,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Record<string, unknown>,
): Promise<ApiReply> {
  for (const [m, pattern, handler] of routes) {
    const match = pattern.exec(path);
    if (!match || m !== method) continue;
    let params: string[];
    try {
      params = match.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      return { status: 400, body: { error: `malformed path /api/${path}`, code: "BAD_REQUEST" } };
    }
    try {
      const result = await handler(ctx, params, query, body);
      return isReply(result) ? result : { status: 200, body: result };
    } catch (error) {
      return failure(error);
    }
  }
  return { status: 404, body: { error: `no route ${method} /api/${path}`, code: "NOT_FOUND" } };
}

function failure(error: unknown): ApiReply {
  if (error instanceof ValidationError) {
    return { status: 422, body: { error: error.message, code: error.code, issues: error.issues } };
  }
  if (error instanceof RepidError) {
    const status =
      error.code === "INVALID_OPTION"
        ? 400
        : error.code === "QUEUE_NOT_DECLARED"
          ? 404
          : error.code === "NOT_SUPPORTED"
            ? 501
            : 500;
    return { status, body: { error: error.message, code: error.code } };
  }
  return { status: 500, body: { error: error instanceof Error ? error.message : String(error) } };
}

/**
 * Which dead letters a replay or deletion is for: `{ ids: [...] }` or `{ all: true }`, exactly
 * one of them (as the CLI's --id and --all), so that a body that lost its ids acts on nothing.
 */
function chosen(body: Record<string, unknown>): string[] | undefined {
  const list = ids(body);
  if ((list === undefined) === (body.all !== true)) {
    throw new InvalidOptionError("ids", 'send { "ids": [...] } or { "all": true } (one of them)');
  }
  return list;
}

function ids(body: Record<string, unknown>): string[] | undefined {
  const value = body.ids;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new InvalidOptionError("ids", "a list of job ids");
  }
  return value;
}

const REPLY = Symbol("reply");

/** A reply with another status than 200. */
function reply(status: number, body: unknown): ApiReply {
  return { status, body, [REPLY]: true } as ApiReply;
}

function isReply(value: unknown): value is ApiReply {
  return typeof value === "object" && value !== null && REPLY in value;
}

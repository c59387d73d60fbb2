/**
 * `repid-gen --compat`: every change between the previous registry and the one being generated,
 * classified in both directions of a rolling deploy, with the verdict and the rollout order the
 * changes need.
 *
 * - old→new: a new worker runs a message an old producer wrote (and the old producer reads the
 *   new worker's result).
 * - new→old: an old worker, still running during the rollout, runs a message a new producer
 *   wrote (and the new producer reads the old worker's result).
 *
 * Verdicts: `safe` (both directions hold); `workers first` (only old→new holds: deploy every
 * worker before any producer); `producers first` (a result only old producers cannot read:
 * update the readers first); `upcast <fp>` (old messages fail the new schema, but the actor
 * declares an upcaster for the old fingerprint); `BREAKING` (old messages would be
 * dead-lettered, or results unreadable whatever the order). Removed, renamed and moved actors
 * are `BREAKING` until their old queue is drained and `--accept <actor>` says so. Conflicting
 * orders (one change needs workers first, another producers first) fail too.
 */
import type { SourceLocation } from "../model.js";
import type { ActorShape, Shape } from "../shape.js";
import { accepts } from "./accepts.js";
import { diffShapes, type ShapeChange } from "./diff.js";
import type { Manifest } from "./manifest.js";

/** An actor of the registry being generated. */
export interface CurrentActor extends ActorShape {
  readonly name: string;
  /** Upcasters the actor declares, by the fingerprint they read. */
  readonly upcasts: readonly UpcastInfo[];
}

export interface UpcastInfo {
  readonly fingerprint: string;
  /** The shape of the upcaster's parameter type, when it declares one. */
  readonly from?: Shape;
  readonly location: SourceLocation;
}

export type Direction = "ok" | "breaks";

export interface CompatRow {
  readonly actor: string;
  readonly change: string;
  readonly oldToNew: Direction;
  readonly newToOld: Direction;
  readonly verdict: string;
  /** True when this row alone makes `--compat` fail. */
  readonly failing: boolean;
}

export type Rollout = "any order" | "workers first" | "producers first" | "no safe order";

export interface CompatReport {
  readonly rows: readonly CompatRow[];
  /** Actors whose fingerprint did not change. */
  readonly unchanged: readonly string[];
  readonly rollout: Rollout;
  /** Problems with upcaster declarations (a parameter type that cannot take the old arguments). */
  readonly errors: readonly string[];
  readonly ok: boolean;
}

export interface CompareOptions {
  /** Removed, renamed or moved actors whose old queue the operator has drained. */
  readonly accept?: readonly string[];
}

/** Compares the previous registry's manifest with the actors being generated. */
export function compareRegistries(
  previous: Manifest,
  current: readonly CurrentActor[],
  options: CompareOptions = {},
): CompatReport {
  const accepted = new Set(options.accept ?? []);
  const rows: CompatRow[] = [];
  const errors: string[] = [];
  const unchanged: string[] = [];
  const now = new Map(current.map((a) => [a.name, a]));
  const oldQueues = new Set(Object.values(previous.actors).map((a) => a.queue));
  const removed = Object.keys(previous.actors).filter((n) => !now.has(n));
  const added = current.filter((a) => !(a.name in previous.actors));
  const renamedTo = new Map<string, string>();
  for (const name of removed) {
    const was = previous.actors[name]!;
    const match = added.find((a) => a.fingerprint === was.fingerprint && !renamedTo.has(a.name));
    if (match) renamedTo.set(match.name, name);
  }
  const names = [...new Set([...Object.keys(previous.actors), ...now.keys()])].sort();
  for (const name of names) {
    const before = previous.actors[name];
    const after = now.get(name);
    if (before && !after) {
      const successor = [...renamedTo].find(([, from]) => from === name)?.[0];
      const change = successor
        ? `renamed to "${successor}" (same schema); queue "${before.queue}" may still hold "${name}" messages`
        : `actor removed; queue "${before.queue}" may still hold its messages`;
      // After a rename, old workers dead-letter the new name's messages on the queue they read.
      const renamedOn = successor === undefined ? undefined : now.get(successor)!.queue;
      const readByOld = renamedOn !== undefined && oldQueues.has(renamedOn);
      rows.push(
        drained(name, change, before.queue, accepted.has(name), readByOld ? "breaks" : "ok"),
      );
      continue;
    }
    if (!before && after) {
      if (renamedTo.has(name)) continue;
      // Old workers on a queue they already read dead-letter the new actor's messages.
      const shared = oldQueues.has(after.queue);
      rows.push({
        actor: name,
        change: `actor added on ${shared ? "existing" : "new"} queue "${after.queue}"`,
        oldToNew: "ok",
        newToOld: shared ? "breaks" : "ok",
        verdict: shared ? "workers first" : "safe",
        failing: false,
      });
      continue;
    }
    if (!before || !after) continue;
    if (before.queue !== after.queue) {
      rows.push(
        drained(
          name,
          `queue "${before.queue}" → "${after.queue}"; "${before.queue}" may still hold its messages`,
          before.queue,
          accepted.has(name),
          "ok",
        ),
      );
    }
    if (before.fingerprint === after.fingerprint) {
      if (before.queue === after.queue) unchanged.push(name);
      continue;
    }
    const upcast = after.upcasts.find((u) => u.fingerprint === before.fingerprint);
    if (upcast && upcast.from && before.args && !accepts(upcast.from, before.args)) {
      const at = `${upcast.location.file}:${upcast.location.line}:${upcast.location.column}`;
      errors.push(
        `${at}: actor "${name}": the upcaster for fingerprint ${before.fingerprint} declares a parameter type that does not accept that version's arguments`,
      );
    }
    const argChanges = diffArgs(before.args, after.args);
    for (const c of argChanges)
      rows.push(argRow(name, c, before.fingerprint, upcast !== undefined));
    for (const c of diffShapes("result", before.result, after.result))
      rows.push(resultRow(name, c));
  }
  const needs = new Set(rows.map((r) => r.verdict).filter((v) => v.includes("first")));
  const workers = [...needs].some((v) => v.includes("workers first"));
  const producers = [...needs].some((v) => v.includes("producers first"));
  const rollout: Rollout =
    workers && producers
      ? "no safe order"
      : workers
        ? "workers first"
        : producers
          ? "producers first"
          : "any order";
  const ok = errors.length === 0 && rollout !== "no safe order" && !rows.some((r) => r.failing);
  return { rows, unchanged, rollout, errors, ok };
}

/**
 * A row for messages left behind under an old name or queue: new workers never run them. An old
 * worker meets new producers' messages only for a rename on a queue it reads (`newToOld`).
 */
function drained(
  actor: string,
  change: string,
  queue: string,
  accepted: boolean,
  newToOld: Direction,
): CompatRow {
  return {
    actor,
    change,
    oldToNew: "breaks",
    newToOld,
    verdict: accepted
      ? `accepted (queue "${queue}" drained)`
      : `BREAKING: drain "${queue}", then --accept ${actor}`,
    failing: !accepted,
  };
}

function diffArgs(before: Shape | undefined, after: Shape | undefined): ShapeChange[] {
  const none: Shape = { k: "undefined" };
  return diffShapes("args", before ?? none, after ?? none);
}

function argRow(actor: string, c: ShapeChange, from: string, upcast: boolean): CompatRow {
  const base = {
    actor,
    change: `${c.path}: ${c.change}`,
    oldToNew: dir(c.oldFitsNew),
    newToOld: dir(c.newFitsOld),
  };
  if (c.oldFitsNew)
    return { ...base, verdict: c.newFitsOld ? "safe" : "workers first", failing: false };
  if (upcast) {
    return {
      ...base,
      verdict: `upcast ${from}${c.newFitsOld ? "" : ", workers first"}`,
      failing: false,
    };
  }
  return { ...base, verdict: `BREAKING: declare an upcaster for ${from}`, failing: true };
}

function resultRow(actor: string, c: ShapeChange): CompatRow {
  // Results travel the other way: the worker writes, the producer reads.
  const oldToNew = c.newFitsOld;
  const newToOld = c.oldFitsNew;
  const verdict =
    oldToNew && newToOld
      ? "safe"
      : oldToNew
        ? "workers first"
        : newToOld
          ? "producers first"
          : "BREAKING: results unreadable";
  return {
    actor,
    change: `${c.path}: ${c.change}`,
    oldToNew: dir(oldToNew),
    newToOld: dir(newToOld),
    verdict,
    failing: !oldToNew && !newToOld,
  };
}

function dir(ok: boolean): Direction {
  return ok ? "ok" : "breaks";
}

/** The report as a plain-text table plus its summary lines. */
export function compatTable(report: CompatReport, against: string): string {
  const header = ["actor", "change", "old→new", "new→old", "verdict"];
  const body = report.rows.map((r) => [r.actor, r.change, r.oldToNew, r.newToOld, r.verdict]);
  const lines: string[] = [`repid-gen --compat ${against}`];
  if (body.length === 0) lines.push("no schema changes");
  else {
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
    lines.push(line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line));
  }
  if (report.unchanged.length > 0) lines.push(`unchanged: ${report.unchanged.join(", ")}`);
  for (const e of report.errors) lines.push(e);
  lines.push(`rollout: ${report.rollout}`);
  lines.push(report.ok ? "compat: ok" : "compat: BREAKING");
  return `${lines.join("\n")}\n`;
}

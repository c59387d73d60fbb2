/** The rows of a run and the printed table: each system's median (min–max), and repid's ratios. */
import type { Summary } from "./stats.js";
import type { SystemName } from "./systems.js";

export interface Row {
  readonly scenario: string;
  readonly unit: string;
  /** Figures per system; a system left out has no figure on this row. */
  readonly figures: Partial<Record<SystemName, Summary>>;
  /** true when a higher figure is better (throughput), false for latency, memory and CPU. */
  readonly higherIsBetter: boolean;
}

const fmtNumber = (x: number): string =>
  x.toLocaleString("en", { maximumFractionDigits: Math.abs(x) >= 100 ? 0 : 2 });

const fmt = (s: Summary | undefined): string =>
  s === undefined
    ? ""
    : s.runs.length === 1
      ? fmtNumber(s.median)
      : `${fmtNumber(s.median)} (${fmtNumber(s.min)}–${fmtNumber(s.max)})`;

/** repid's median over the other's, with a mark when repid is ahead (✓) or behind (✗). */
function ratio(row: Row, other: SystemName): string {
  const a = row.figures.repid?.median;
  const b = row.figures[other]?.median;
  if (a === undefined || b === undefined || b === 0) return "";
  const r = a / b;
  const ahead = row.higherIsBetter ? r >= 1 : r <= 1;
  return `${r.toFixed(2)}x ${ahead ? "✓" : "✗"}`;
}

export function formatTable(rows: readonly Row[]): string {
  const head = [
    "scenario",
    "unit",
    "repid",
    "BullMQ",
    "bee-queue",
    "repid/BullMQ",
    "repid/bee-queue",
  ];
  const lines = rows.map((r) => [
    r.scenario,
    `${r.unit} ${r.higherIsBetter ? "↑" : "↓"}`,
    fmt(r.figures.repid),
    fmt(r.figures.bullmq),
    fmt(r.figures["bee-queue"]),
    ratio(r, "bullmq"),
    ratio(r, "bee-queue"),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    row(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...lines.map(row),
    "medians (min–max); ↑ higher is better, ↓ lower is better; ratios are repid's median over the",
    "other's, ✓ where repid is ahead.",
  ].join("\n");
}

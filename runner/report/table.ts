/**
 * The numbers of the report: per (method, task/dataset) mean ± std over seeds, paired per-seed
 * differences to the baseline, delta-m, training time and pseudo-label accuracy ({@link summarize}),
 * the markdown tables that show them, and {@link parseReportTable} that reads such a table back.
 * @module
 */
import { TASK_NAMES } from "../../core/types.ts";
import type { CompareResults, RunResult } from "./results.ts";
import { runPseudoLabels } from "./results.ts";
import { deltaM, type PairedDiff, pairedDiff, type Spread, spread } from "./stats.ts";

/** One column of the results table: a task evaluated on one dataset. */
export interface Column {
  task: string;
  dataset: string;
  /** `task/dataset`, the column header. */
  key: string;
  classNames: string[];
}

/** The metrics a table cell can show. */
export type CellMetric = "acc" | "mean_class_acc";

/** One cell: a method's test metric on one column over its seeds. */
export interface CellSummary extends Spread {
  method: string;
  task: string;
  dataset: string;
  metric: CellMetric;
  seeds: number[];
  values: number[];
  /** Paired per-seed difference to the baseline (fractions, not percent); null for the baseline itself. */
  diff: PairedDiff | null;
  /** Highest mean of the column at the shown precision (ties share it). */
  best: boolean;
}

/** Pseudo-label accuracy of one method on one (task, dataset), over seeds. */
export interface PseudoSummary {
  task: string;
  dataset: string;
  epochs: number;
  first: Spread;
  last: Spread;
  /** Per seed, the best epoch's accuracy. */
  best: Spread;
  lastKept: Spread | null;
  lastRejected: Spread | null;
  /** Per seed, the share of rows kept at the last refresh (null when the strategy marks no rows). */
  lastKeptShare: Spread | null;
}

/** Per-method numbers that are not per column. */
export interface MethodSummary {
  method: string;
  seeds: number[];
  /** Δm in percent from the seed means (LibMTL style); 0 for the baseline. */
  deltaMPct: number | null;
  /** Δm computed per seed against the same seed's baseline, then mean ± std. */
  deltaMPerSeed: (Spread & { seeds: number[]; values: number[] }) | null;
  /** Training seconds per seed (summed over the runs of that seed, e.g. STL's one run per task). */
  trainSeconds: Spread;
  imagesSeen: Spread;
  /** Mean images seen / mean training seconds. */
  imagesPerSecond: number | null;
  selectedEpoch: Spread;
  pseudo: PseudoSummary[];
}

/** Everything the report shows, computed once from {@link CompareResults}. */
export interface ReportSummary {
  baseline: string | null;
  proposed: string | null;
  methods: string[];
  columns: Column[];
  seeds: number[];
  cells: CellSummary[];
  methodStats: MethodSummary[];
}

/** Decimal places shown for percentages. */
export const PCT_DECIMALS = 2;

/** Heading of the main table (the one {@link parseReportTable} reads by default). */
export const MAIN_TABLE_HEADING = "## Results: test accuracy (%)";

/** Heading of the mean-class accuracy table. */
export const MCA_TABLE_HEADING = "## Test mean-class accuracy (%)";

/** The method named in results.json (case-insensitive), or null when it names none. */
function findMethod(methods: string[], wanted: string | undefined): string | null {
  if (wanted === undefined) return null;
  return methods.find((m) => m.toLowerCase() === wanted.toLowerCase()) ?? null;
}

/** Columns in canonical task order, then dataset order of first appearance. */
function columnsOf(runs: RunResult[]): Column[] {
  const cols: Column[] = [];
  for (const r of runs) {
    for (const t of r.results) {
      if (!cols.some((c) => c.task === t.task && c.dataset === t.dataset)) {
        cols.push({
          task: t.task,
          dataset: t.dataset,
          key: `${t.task}/${t.dataset}`,
          classNames: t.classNames,
        });
      }
    }
  }
  const rank = (t: string) => {
    const i = (TASK_NAMES as readonly string[]).indexOf(t);
    return i < 0 ? TASK_NAMES.length : i;
  };
  return cols.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c.task) - rank(b.c.task) || a.i - b.i).map((
    x,
  ) => x.c);
}

/** Round to the shown percentage precision (for ties and bold marks). */
function shown(frac: number): number {
  return Number((frac * 100).toFixed(PCT_DECIMALS));
}

/** Compute every number the report shows. */
export function summarize(results: CompareResults): ReportSummary {
  const runs = results.runs;
  const methods: string[] = [];
  for (const r of runs) if (!methods.includes(r.method)) methods.push(r.method);
  const baseline = findMethod(methods, results.baseline);
  const proposed = findMethod(methods, results.proposed);
  if (results.baseline !== undefined && baseline === null) {
    throw new RangeError(
      `results.baseline: method "${results.baseline}" has no runs (methods: ${methods.join(", ")})`,
    );
  }
  // The baseline goes first, as in the paper's tables.
  if (baseline) {
    methods.splice(methods.indexOf(baseline), 1);
    methods.unshift(baseline);
  }
  const columns = columnsOf(runs);
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);

  const values = (method: string, col: Column, metric: CellMetric) => {
    const m = new Map<number, number>();
    for (const r of runs) {
      if (r.method !== method) continue;
      const t = r.results.find((x) => x.task === col.task && x.dataset === col.dataset);
      if (t) m.set(r.seed, metric === "acc" ? t.testAcc : t.testMeanClassAcc);
    }
    return m;
  };

  const cells: CellSummary[] = [];
  for (const metric of ["acc", "mean_class_acc"] as const) {
    for (const col of columns) {
      const group: CellSummary[] = [];
      const base = baseline ? values(baseline, col, metric) : new Map<number, number>();
      for (const method of methods) {
        const v = values(method, col, metric);
        const s = [...v.keys()].sort((a, b) => a - b);
        const vals = s.map((k) => v.get(k)!);
        group.push({
          method,
          task: col.task,
          dataset: col.dataset,
          metric,
          seeds: s,
          values: vals,
          ...spread(vals),
          diff: method === baseline || base.size === 0 || v.size === 0 ? null : pairedDiff(v, base),
          best: false,
        });
      }
      const present = group.filter((c) => c.mean !== null);
      const top = Math.max(...present.map((c) => shown(c.mean!)));
      for (const c of present) c.best = shown(c.mean!) === top;
      cells.push(...group);
    }
  }

  const cell = (method: string, col: Column, metric: CellMetric = "acc") =>
    cells.find((c) =>
      c.method === method && c.metric === metric && c.task === col.task && c.dataset === col.dataset
    )!;
  const baseCols = baseline ? columns.filter((c) => cell(baseline, c).n > 0) : [];

  const methodStats = methods.map((method): MethodSummary => {
    const mine = runs.filter((r) => r.method === method);
    const mySeeds = [...new Set(mine.map((r) => r.seed))].sort((a, b) => a - b);
    const perSeed = (f: (r: RunResult) => number) =>
      mySeeds.map((s) => mine.filter((r) => r.seed === s).reduce((a, r) => a + f(r), 0));
    const secs = spread(perSeed((r) => r.trainSeconds));
    const imgs = spread(perSeed((r) => r.imagesSeen));
    // One epoch per run; a merged reference result has one per single-task run (per column).
    const selected = mine.flatMap((r) =>
      r.selectedEpoch !== undefined
        ? [r.selectedEpoch]
        : r.results.flatMap((t) => t.selectedEpoch === undefined ? [] : [t.selectedEpoch])
    );

    let dm: number | null = null;
    let dmSeed: MethodSummary["deltaMPerSeed"] = null;
    if (baseline && baseCols.length > 0) {
      dm = deltaM(baseCols.map((c) => cell(method, c).mean), baseCols.map((c) => cell(baseline, c).mean));
      const ds: number[] = [];
      const dSeeds: number[] = [];
      for (const s of seeds) {
        const get = (m: string, c: Column) => values(m, c, "acc").get(s) ?? null;
        const d = deltaM(baseCols.map((c) => get(method, c)), baseCols.map((c) => get(baseline, c)));
        if (d !== null) {
          ds.push(d);
          dSeeds.push(s);
        }
      }
      if (ds.length > 0) dmSeed = { ...spread(ds), seeds: dSeeds, values: ds };
    }
    return {
      method,
      seeds: mySeeds,
      deltaMPct: dm,
      deltaMPerSeed: dmSeed,
      trainSeconds: secs,
      imagesSeen: imgs,
      imagesPerSecond: secs.mean && imgs.mean !== null ? imgs.mean / secs.mean : null,
      selectedEpoch: spread(selected),
      pseudo: summarizePseudo(mine),
    };
  });

  return { baseline, proposed, methods, columns, seeds, cells, methodStats };
}

function summarizePseudo(runs: RunResult[]): PseudoSummary[] {
  const keys: { task: string; dataset: string }[] = [];
  const perRun = runs.map((r) => runPseudoLabels(r));
  for (const pts of perRun) {
    for (const p of pts) {
      if (!keys.some((k) => k.task === p.task && k.dataset === p.dataset)) {
        keys.push({ task: p.task, dataset: p.dataset });
      }
    }
  }
  return keys.map(({ task, dataset }) => {
    const series = perRun.map((pts) =>
      pts.filter((p) => p.task === task && p.dataset === dataset).sort((a, b) => a.epoch - b.epoch)
    )
      .filter((s) => s.length > 0);
    const lastOf = (f: (p: (typeof series)[0][0]) => number | undefined) => {
      const xs = series.map((s) => f(s[s.length - 1])).filter((x): x is number =>
        x !== undefined && Number.isFinite(x)
      );
      return xs.length ? spread(xs) : null;
    };
    const lastKept = lastOf((p) => p.keptAcc);
    return {
      task,
      dataset,
      epochs: Math.max(...series.map((s) => s.length)),
      first: spread(series.map((s) => s[0].acc)),
      last: spread(series.map((s) => s[s.length - 1].acc)),
      best: spread(series.map((s) => Math.max(...s.map((p) => p.acc)))),
      lastKept,
      lastRejected: lastOf((p) => p.rejectedAcc),
      // Some strategies log a kept share without marking rows (all kept); it says nothing there.
      lastKeptShare: lastKept === null ? null : lastOf((p) => p.keptFraction),
    };
  });
}

/** `78.56` for 0.78564 (percent with the shown precision). */
export function fmtPct(frac: number | null): string {
  return frac === null || !Number.isFinite(frac) ? "—" : (frac * 100).toFixed(PCT_DECIMALS);
}

/**
 * `format(x, d)` at the fewest digits d, from `from` up to `to`, at which x and `mark` read apart (x equal to
 * `mark` at `from`): a value just beside a goal or a level must not print as the goal.
 */
function apartFrom(
  x: number,
  mark: number,
  format: (v: number, digits: number) => string,
  { from, to }: { from: number; to: number },
): string {
  for (let d = from; d < to; d++) {
    const s = format(x, d);
    if (x === mark || s !== format(mark, d)) return s;
  }
  return format(x, to);
}

/**
 * {@link fmtPct}, with as many more decimals (up to 6) as it takes to show which side of `mark` the value is on:
 * a half-width of 2.0025 pp against a 2 pp goal reads `2.002`, not `2.00` beside "not met".
 */
export function fmtPctBeside(frac: number | null, mark: number): string {
  if (frac === null || !Number.isFinite(frac)) return fmtPct(frac);
  return apartFrom(frac, mark, (v, d) => (v * 100).toFixed(d), { from: PCT_DECIMALS, to: 6 });
}

/** `+1.44` / `-0.20` percentage points for a fraction difference. */
export function fmtPp(frac: number | null): string {
  if (frac === null || !Number.isFinite(frac)) return "—";
  const s = (frac * 100).toFixed(PCT_DECIMALS);
  // A tiny negative rounding to zero shows as +0.00, not -0.00.
  return !s.startsWith("-") || Number(s) === 0 ? `+${s.replace(/^-/, "")}` : s;
}

/** `+1.44` for a value already in percent. */
export function fmtSigned(x: number | null, decimals = PCT_DECIMALS): string {
  if (x === null || !Number.isFinite(x)) return "—";
  const s = x.toFixed(decimals);
  return !s.startsWith("-") || Number(s) === 0 ? `+${s.replace(/^-/, "")}` : s;
}

/** `mean ± std` (percent), or just the mean when there is no spread; bold when best. */
function cellText(c: CellSummary): string {
  if (c.mean === null) return "—";
  const body = c.std === null ? fmtPct(c.mean) : `${fmtPct(c.mean)} ± ${fmtPct(c.std)}`;
  return c.best ? `**${body}**` : body;
}

function mdTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** The main table: rows = methods, columns = test accuracy per task/dataset, then Δm. */
export function mainTable(s: ReportSummary, metric: CellMetric = "acc"): string {
  const base = s.baseline ?? "baseline";
  const header = ["Method", ...s.columns.map((c) => c.key)];
  if (metric === "acc") header.push(`Δm vs ${base} (%)`, "Δm per seed (%)", "Seeds");
  const rows = s.methods.map((m) => {
    const row = [m, ...s.columns.map((col) => cellText(findCell(s, m, col, metric)))];
    if (metric === "acc") {
      const ms = s.methodStats.find((x) => x.method === m)!;
      const ps = ms.deltaMPerSeed;
      row.push(
        fmtSigned(ms.deltaMPct),
        ps === null
          ? "—"
          : ps.std === null
          ? fmtSigned(ps.mean)
          : `${fmtSigned(ps.mean)} ± ${ps.std.toFixed(PCT_DECIMALS)}`,
        String(ms.seeds.length),
      );
    }
    return row;
  });
  return mdTable(header, rows);
}

/**
 * p-value with two significant digits, or more (up to 6) where two would read as `alpha`, the level it is
 * judged at: against 0.05, 0.0498 prints `0.0498` (not "0.050" beside a call that counts it significant),
 * 0.0312 `0.031`.
 */
export function fmtP(p: number, alpha: number): string {
  if (p < 0.001) return "<0.001";
  return apartFrom(p, alpha, (v, d) => v.toPrecision(d), { from: 2, to: 6 });
}

/** Training time per method. */
export function timeTable(s: ReportSummary): string {
  const header = [
    "Method",
    "Train time per seed (s)",
    "Images seen per seed",
    "Images/s",
    "Selected epoch (mean)",
  ];
  const rows = s.methodStats.map((m) => [
    m.method,
    m.trainSeconds.std === null
      ? fmtNum(m.trainSeconds.mean, 1)
      : `${fmtNum(m.trainSeconds.mean, 1)} ± ${fmtNum(m.trainSeconds.std, 1)}`,
    fmtNum(m.imagesSeen.mean, 0),
    fmtNum(m.imagesPerSecond, 1),
    fmtNum(m.selectedEpoch.mean, 1),
  ]);
  return mdTable(header, rows);
}

/** Pseudo-label accuracy vs hidden truth for the methods that make pseudo labels; null when none do. */
export function pseudoTable(s: ReportSummary): string | null {
  const rows: string[][] = [];
  const sp = (x: Spread | null) =>
    x === null || x.mean === null
      ? "—"
      : x.std === null
      ? fmtPct(x.mean)
      : `${fmtPct(x.mean)} ± ${fmtPct(x.std)}`;
  for (const m of s.methodStats) {
    for (const p of m.pseudo) {
      rows.push([
        m.method,
        `${p.task}/${p.dataset}`,
        String(p.epochs),
        sp(p.first),
        sp(p.last),
        sp(p.best),
        sp(p.lastKept),
        sp(p.lastRejected),
        sp(p.lastKeptShare),
      ]);
    }
  }
  if (rows.length === 0) return null;
  return mdTable([
    "Method",
    "Pseudo-labelled task/dataset",
    "Epochs",
    "First epoch",
    "Last epoch",
    "Highest",
    "Kept (last)",
    "Rejected (last)",
    "Kept share (last)",
  ], rows);
}

/** Format a number with fixed decimals, `—` when missing. */
export function fmtNum(x: number | null, decimals: number): string {
  return x === null || !Number.isFinite(x) ? "—" : x.toFixed(decimals);
}

/** The cell of a method on a column. */
export function findCell(
  s: ReportSummary,
  method: string,
  col: Column,
  metric: CellMetric = "acc",
): CellSummary {
  const c = s.cells.find((x) =>
    x.method === method && x.metric === metric && x.task === col.task && x.dataset === col.dataset
  );
  if (!c) throw new RangeError(`no cell for ${method} on ${col.key} (${metric})`);
  return c;
}

/** A table cell read back from markdown. */
export interface ParsedCell {
  text: string;
  bold: boolean;
  /** The first number of the cell (null for `—`). */
  mean: number | null;
  /** The number after `±`, when present. */
  std: number | null;
}

/** A markdown table read back: header and rows (first cell = row label). */
export interface ParsedTable {
  columns: string[];
  rows: { label: string; cells: ParsedCell[] }[];
}

/**
 * Read the first markdown table after the line starting with `heading` (default: the main results
 * table). Cells become {@link ParsedCell}s: bold flag, first number, number after `±`.
 */
export function parseReportTable(markdown: string, options: { heading?: string } = {}): ParsedTable {
  const heading = options.heading ?? MAIN_TABLE_HEADING;
  const lines = markdown.split(/\r?\n/);
  const h = lines.findIndex((l) => l.startsWith(heading));
  if (h < 0) throw new RangeError(`parseReportTable: heading "${heading}" not found`);
  let i = h + 1;
  while (i < lines.length && !lines[i].trimStart().startsWith("|")) {
    if (lines[i].startsWith("## ")) throw new RangeError(`parseReportTable: no table under "${heading}"`);
    i++;
  }
  const split = (l: string) =>
    l.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/).map((c) =>
      c.trim().replaceAll("\\|", "|")
    );
  const tableLines: string[] = [];
  while (i < lines.length && lines[i].trimStart().startsWith("|")) tableLines.push(lines[i++]);
  if (tableLines.length < 2 || !/^\|?\s*:?-{3,}/.test(tableLines[1].trim())) {
    throw new RangeError(`parseReportTable: the table under "${heading}" has no header separator`);
  }
  const columns = split(tableLines[0]);
  const rows = tableLines.slice(2).map((l, r) => {
    const cells = split(l);
    if (cells.length !== columns.length) {
      throw new RangeError(
        `parseReportTable: row ${
          r + 1
        } under "${heading}" has ${cells.length} cells, header ${columns.length}`,
      );
    }
    return { label: cells[0], cells: cells.slice(1).map(parseCell) };
  });
  return { columns, rows };
}

function parseCell(text: string): ParsedCell {
  const bold = /^\*\*.*\*\*/.test(text);
  const body = text.replace(/\*\*/g, "");
  const m = body.match(/^([+-]?\d+(?:\.\d+)?)(?:\s*±\s*(\d+(?:\.\d+)?))?/);
  return { text, bold, mean: m ? Number(m[1]) : null, std: m && m[2] !== undefined ? Number(m[2]) : null };
}

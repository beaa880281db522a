/**
 * The table of bench/shift_curve.sh's runs: per shift and task, the STL model's test accuracy in domain, its
 * accuracy on the other dataset's hidden truth (the teacher transfer), the gap, and its validation curve
 * (whether the last quarter of training still gained over the quarter before).
 *
 *   deno run -A bench/shift_curve_table.ts OUT_DIR [--json]
 * @module
 */
import { join } from "node:path";
import { readRunLog } from "../runner/train/run_log.ts";
import { lastQuarterGain } from "../runner/report/convergence.ts";
import { benchJson } from "./_bench_json.ts";

/** One row of the curve. */
export interface ShiftRow {
  shift: number;
  task: string;
  inDomain: number | null;
  transfer: number | null;
  epochs: number;
  /** Mean validation accuracy of the last quarter of the budget minus the quarter before (the report's check). */
  lastQuarterGain: number | null;
  valCurve: number[];
}

/** Read every `shift<S>-<task>` run under `dir`. */
export async function readShiftRuns(dir: string): Promise<ShiftRow[]> {
  const rows: ShiftRow[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = e.isDirectory ? /^shift([\d.]+)-(\w+)$/.exec(e.name) : null;
    if (!m) continue;
    const run = join(dir, e.name);
    const log = await readRunLog(run).catch(() => null);
    const key = `${m[2]}/`;
    const col = log?.columns.find((c) => c.startsWith(key) && c.endsWith("/val/acc"));
    const points = log && col
      ? log.rows.map((r) => ({ x: Number(r.images_seen), value: Number(r[col]) }))
        .filter((p) => Number.isFinite(p.value))
      : [];
    const curve = points.map((p) => p.value);
    const summary = await Deno.readTextFile(join(run, "summary.json")).then(JSON.parse).catch(() => null);
    const inDomain = summary
      ? Object.entries(summary.test as Record<string, number>).find(([k]) => k.endsWith("/test/acc"))?.[1] ??
        null
      : null;
    const transfer = await Deno.readTextFile(`${run}.transfer.json`).then(JSON.parse)
      .then((x: { acc: number }[]) => x[0]?.acc ?? null).catch(() => null);
    rows.push({
      shift: Number(m[1]),
      task: m[2],
      inDomain,
      transfer,
      epochs: curve.length,
      // The report's own check: quarters of the budget on the images-seen axis.
      lastQuarterGain: lastQuarterGain(points).gain,
      valCurve: curve,
    });
  }
  return rows.sort((a, b) => a.shift - b.shift || (a.task < b.task ? -1 : 1));
}

const pct = (v: number | null) => (v === null ? "–" : (v * 100).toFixed(1));

/** Markdown table of the rows. */
export function shiftTable(rows: ShiftRow[]): string {
  return [
    "| shift | task | STL in domain (%) | on the other dataset (%) | gap (pp) | epochs | last-quarter gain (pp) |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.shift} | ${r.task} | ${pct(r.inDomain)} | ${pct(r.transfer)} | ${
        r.inDomain !== null && r.transfer !== null ? ((r.inDomain - r.transfer) * 100).toFixed(1) : "–"
      } | ${r.epochs} | ${pct(r.lastQuarterGain)} |`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const [dir, flag] = Deno.args;
  if (!dir) {
    console.error("usage: deno run -A bench/shift_curve_table.ts OUT_DIR [--json]");
    Deno.exit(2);
  }
  const rows = await readShiftRuns(dir);
  console.log(flag === "--json" ? benchJson("shift-curve", { rows }) : shiftTable(rows));
}

/**
 * Where do runs plateau? Cuts each run's validation curve at budgets of P passes (training images seen per
 * dataset over its training rows) and applies the report's last-quarter check to each cut: the gain of the
 * mean validation accuracy of the last quarter of the cut budget over the quarter before. The smallest P
 * from which every cut stays at or below 1 pp is where that run stops improving by the report's rule; a
 * profile's budget should reach it (docs/data.md sizes `thorough` this way).
 *
 *   deno run -A bench/plateau.ts DIR [--step=5]
 *
 * DIR: a comparison (its `runs/`) or one run directory. Prints a markdown table: per run and task/dataset,
 * the gain (pp) at P = step, 2·step, ... up to the run's budget, and the plateau.
 * @module
 */
import { join } from "node:path";
import { curvesFromLog } from "../runner/report/results.ts";
import { lastQuarterGain, STILL_IMPROVING } from "../runner/report/convergence.ts";
import { readRunLog } from "../runner/train/run_log.ts";
import { exists } from "../core/fs.ts";

/** One run's check at each cut budget. */
export interface PlateauRow {
  run: string;
  column: string;
  /** Passes of the run's whole budget. */
  budget: number;
  /** Last-quarter gain (fraction) of the curve cut at each budget of `cuts` passes (null: too few points). */
  gains: (number | null)[];
  /** The smallest cut from which every later cut's gain is at most 1 pp; null if the last is above it. */
  plateau: number | null;
}

/**
 * The check at cuts of `step` passes for one run directory (one row per task/dataset it validated on). A
 * point's passes are its images seen per dataset over the run's training rows per dataset.
 */
export async function plateauRows(
  dir: string,
  step: number,
): Promise<{ cuts: number[]; rows: PlateauRow[] }> {
  const cfg = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  const datasets = Math.max(1, (cfg.datasets as string[] | undefined)?.length ?? 1);
  const trainRows = Number(cfg.options?.train_size);
  if (!(trainRows > 0)) throw new Error(`${dir}: config.json names no train_size`);
  const curves = curvesFromLog((await readRunLog(dir)).rows);
  const columns = [...new Set(curves.filter((c) => c.metric.endsWith("/val/acc")).map((c) => c.metric))]
    .filter((m) => !m.startsWith("all/"));
  const rows: PlateauRow[] = [];
  let cuts: number[] = [];
  for (const metric of columns) {
    const pts = curves.filter((c) =>
      c.metric === metric && Number.isFinite(c.value) && c.imagesSeen !== undefined
    )
      .map((c) => ({ x: c.imagesSeen! / datasets / trainRows, value: c.value }));
    const budget = Math.max(...pts.map((p) => p.x));
    cuts = [];
    for (let p = step; p <= budget + 1e-9; p += step) cuts.push(p);
    const gains = cuts.map((p) => lastQuarterGain(pts.filter((q) => q.x <= p + 1e-9)).gain);
    let plateau: number | null = null;
    for (let i = gains.length - 1; i >= 0; i--) {
      const g = gains[i];
      if (g === null || g > STILL_IMPROVING) break;
      plateau = cuts[i];
    }
    rows.push({ run: dir.split("/").pop()!, column: metric.replace("/val/acc", ""), budget, gains, plateau });
  }
  return { cuts, rows };
}

if (import.meta.main) {
  const dir = Deno.args.find((a) => !a.startsWith("--"));
  if (!dir) {
    console.error("usage: deno run -A bench/plateau.ts DIR [--step=5]");
    Deno.exit(2);
  }
  const step = Number(Deno.args.find((a) => a.startsWith("--step="))?.slice(7) ?? 5);
  if (!(step > 0)) {
    console.error("error: --step: expected a positive number of passes");
    Deno.exit(2);
  }
  const dirs: string[] = [];
  if (await exists(join(dir, "runs"))) {
    for await (const e of Deno.readDir(join(dir, "runs"))) {
      if (await exists(join(dir, "runs", e.name, "summary.json"))) dirs.push(join(dir, "runs", e.name));
    }
    dirs.sort();
  } else dirs.push(dir);
  let cuts: number[] = [];
  const rows: PlateauRow[] = [];
  for (const d of dirs) {
    const r = await plateauRows(d, step);
    if (r.cuts.length > cuts.length) cuts = r.cuts;
    rows.push(...r.rows);
  }
  console.log(`| run | task/dataset | ${cuts.map((c) => `${c}`).join(" | ")} | plateau from |`);
  console.log(`| --- | --- | ${cuts.map(() => "---:").join(" | ")} | ---: |`);
  for (const r of rows) {
    const cells = cuts.map((_, i) => {
      const g = r.gains[i];
      return g === undefined || g === null ? "" : `${g > 0 ? "+" : ""}${(g * 100).toFixed(1)}`;
    });
    console.log(`| ${r.run} | ${r.column} | ${cells.join(" | ")} | ${r.plateau ?? "not yet"} |`);
  }
  console.log(
    `\nLast-quarter validation gain (pp) of each run cut at P passes; "plateau from" = the smallest P from which ` +
      `every cut gains at most ${STILL_IMPROVING * 100} pp.`,
  );
}

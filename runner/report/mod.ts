/**
 * The automated benchmark report of a comparison. The `compare` runner collects one
 * {@link RunResult} per (method, seed) into a {@link CompareResults} and calls {@link writeReport}:
 *
 * ```ts
 * import { writeReport } from "./runner/report/mod.ts";
 * await writeReport(results, "runs/compare/smoke");
 * // -> report.md, results.json, results.csv, runs.csv, figures/*.svg + *.png
 * ```
 *
 * A saved `results.json` can be rendered again: `deno run -A runner/report/mod.ts results.json OUT_DIR`.
 * @module
 */
import { failedSection, teacherSection } from "./job.ts";
import { join } from "node:path";
import { stringifyCsv } from "../../core/csv.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../core/fs.ts";
import { type FigureOptions, type FigureRef, writeFigures } from "./figures.ts";
import { type CompareResults, ResultsError, type RunResult, validateCompareResults } from "./results.ts";
import {
  DIFF_TABLE_HEADING,
  diffTable,
  fmtNum,
  MAIN_TABLE_HEADING,
  mainTable,
  MCA_TABLE_HEADING,
  pseudoTable,
  type ReportSummary,
  summarize,
  timeTable,
} from "./table.ts";
import { buildVerdict, type Verdict } from "./verdict.ts";

export * from "./results.ts";
export * from "./stats.ts";
export * from "./table.ts";
export * from "./verdict.ts";
export * from "./figures.ts";

/** Format tag of the results.json this module writes. */
export const RESULTS_FORMAT = "sa-mtl-compare-report/1";

/** What results.json holds: the computed numbers and the runner's input, unchanged. */
export interface ResultsFile {
  format: string;
  summary: ReportSummary;
  verdict: Verdict;
  figures: FigureRef[];
  input: CompareResults;
}

/** Options of {@link writeReport}. */
export interface ReportOptions extends FigureOptions {
  /** First heading of report.md (overrides `results.title`). */
  title?: string;
  /** Text shown under the title (overrides `results.notice`). */
  notice?: string;
  /** Write figures (default true). */
  figures?: boolean;
}

/**
 * Write `report.md`, `results.json`, `results.csv`, `runs.csv` and the figures of a comparison into
 * `outDir` (every file atomically). Throws {@link ResultsError} naming the field when `results` is malformed.
 */
export async function writeReport(
  results: CompareResults,
  outDir: string,
  options: ReportOptions = {},
): Promise<void> {
  validateCompareResults(results);
  const summary = summarize(results);
  const verdict = buildVerdict(results, summary);
  const figures = options.figures === false ? [] : await writeFigures(results, summary, outDir, options);
  const file: ResultsFile = { format: RESULTS_FORMAT, summary, verdict, figures, input: results };
  await writeJsonAtomic(join(outDir, "results.json"), file);
  await writeFileAtomic(join(outDir, "results.csv"), resultsCsv(summary));
  await writeFileAtomic(join(outDir, "runs.csv"), runsCsv(results.runs));
  await writeFileAtomic(
    join(outDir, "report.md"),
    renderReport(results, {
      summary,
      verdict,
      figures,
      title: options.title ?? results.title,
      notice: options.notice ?? results.notice,
    }),
  );
}

/** Read a comparison from a results.json written by {@link writeReport} or by the runner itself. */
export async function readResults(path: string): Promise<CompareResults> {
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new ResultsError(`${path}: ${(e as Error).message}`);
  }
  const inner = typeof value === "object" && value !== null && "input" in value && "format" in value
    ? (value as { input: unknown }).input
    : value;
  return validateCompareResults(inner, path);
}

const num = (
  x: number | null | undefined,
) => (x === null || x === undefined || !Number.isFinite(x) ? "" : String(x));

/**
 * results.csv: one row per (method, column, metric) with the numbers of the tables (fractions, full
 * precision), then `delta_m_pct` rows (mean = Δm from seed means, std = spread of per-seed Δm) and
 * `train_seconds` rows (task and dataset `*`).
 */
export function resultsCsv(s: ReportSummary): string {
  const columns = [
    "method",
    "task",
    "dataset",
    "metric",
    "n_seeds",
    "mean",
    "std",
    "diff_mean",
    "diff_std",
    "diff_n",
    "diff_p",
    "best",
    "seeds",
    "values",
  ];
  const rows: Record<string, string | number>[] = s.cells.map((c) => ({
    method: c.method,
    task: c.task,
    dataset: c.dataset,
    metric: c.metric,
    n_seeds: c.n,
    mean: num(c.mean),
    std: num(c.std),
    diff_mean: num(c.diff?.mean),
    diff_std: num(c.diff?.std),
    diff_n: c.diff ? c.diff.n : "",
    diff_p: num(c.diff?.p),
    best: c.best ? 1 : 0,
    seeds: c.seeds.join(" "),
    values: c.values.join(" "),
  }));
  for (const m of s.methodStats) {
    const base = {
      method: m.method,
      task: "*",
      dataset: "*",
      diff_mean: "",
      diff_std: "",
      diff_n: "",
      diff_p: "",
      best: "",
    };
    rows.push({
      ...base,
      metric: "delta_m_pct",
      n_seeds: m.deltaMPerSeed?.n ?? 0,
      mean: num(m.deltaMPct),
      std: num(m.deltaMPerSeed?.std),
      seeds: m.deltaMPerSeed?.seeds.join(" ") ?? "",
      values: m.deltaMPerSeed?.values.join(" ") ?? "",
    });
    rows.push({
      ...base,
      metric: "train_seconds",
      n_seeds: m.trainSeconds.n,
      mean: num(m.trainSeconds.mean),
      std: num(m.trainSeconds.std),
      seeds: m.seeds.join(" "),
      values: "",
    });
  }
  return stringifyCsv(columns, rows);
}

/** runs.csv: the raw per-run, per-column numbers with the run directory and command of each. */
export function runsCsv(runs: RunResult[]): string {
  const columns = [
    "method",
    "seed",
    "task",
    "dataset",
    "test_acc",
    "test_mean_class_acc",
    "val_acc",
    "n_test",
    "selected_epoch",
    "train_seconds",
    "images_seen",
    "backend",
    "run_dir",
    "command",
  ];
  const rows = runs.flatMap((r) =>
    r.results.map((t) => ({
      method: r.method,
      seed: r.seed,
      task: t.task,
      dataset: t.dataset,
      test_acc: t.testAcc,
      test_mean_class_acc: t.testMeanClassAcc,
      val_acc: num(t.valAcc),
      n_test: t.nTest ?? t.confusion.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0),
      selected_epoch: num(r.selectedEpoch),
      train_seconds: r.trainSeconds,
      images_seen: r.imagesSeen,
      backend: r.backend.name,
      run_dir: r.runDir,
      command: r.command,
    }))
  );
  return stringifyCsv(columns, rows);
}

function img(f: FigureRef): string {
  const src = f.png ?? f.svg;
  return `![${f.title}](${src})  \n[SVG](${f.svg})`;
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Render report.md from the computed numbers. */
export function renderReport(
  results: CompareResults,
  parts: { summary: ReportSummary; verdict: Verdict; figures: FigureRef[]; title?: string; notice?: string },
): string {
  const { summary: s, verdict, figures } = parts;
  const base = s.baseline ?? "the baseline";
  const nSeeds = s.seeds.length;
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines, "");

  p(`# ${parts.title ?? "SA-MTL comparison report"}`);
  if (parts.notice) p(parts.notice);
  p(
    `Profile \`${results.profile}\`, model \`${results.model}\`, datasets ${
      results.datasets.map((d) => `\`${d}\``).join(", ")
    }, ` +
      `${s.methods.length} methods, seed${nSeeds === 1 ? "" : "s"} ${s.seeds.join(", ")}. ` +
      `Wall time ${fmtNum(results.wallSeconds, 0)} s${
        results.finishedAt ? `, finished ${results.finishedAt}` : ""
      }.`,
  );

  p("## Verdict", "", "Generated from the numbers in this report.", "", ...verdict.lines);
  out.push(...failedSection(results));

  p(MAIN_TABLE_HEADING);
  p(
    `Rows = methods, columns = task/dataset. Test split, checkpoint chosen on validation. ` +
      (nSeeds > 1
        ? `Mean ± sample std over ${nSeeds} seeds.`
        : `One seed: no spread is available, so cells show the single value.`) +
      ` **Bold** = best mean of the column (at the shown precision). ` +
      `Δm = (1/T) Σ_t (acc_t − acc_${base},t) / acc_${base},t · 100 over the T columns of ${base} (LibMTL), from the seed means; ` +
      `"Δm per seed" computes it per seed against the same seed's ${base}.`,
  );
  p(mainTable(s));
  const summaryFig = figures.find((f) => f.kind === "summary");
  if (summaryFig) p(img(summaryFig));

  if (s.baseline !== null) {
    p(DIFF_TABLE_HEADING);
    p(
      `Per seed, method − ${base} on the same seed; mean ± std of those differences, how many seeds went up, and a ` +
        `two-sided paired t-test p-value (needs ≥ 2 seeds).`,
    );
    p(diffTable(s));
  }

  p(MCA_TABLE_HEADING);
  p("Mean per-class recall on the test split (robust to class imbalance); same layout as the main table.");
  p(mainTable(s, "mean_class_acc"));

  p("## Training curves");
  const curves = figures.filter((f) => f.kind === "curves");
  if (curves.length === 0) p("No validation-accuracy curves were logged (or figures were turned off).");
  for (const f of curves) p(img(f));

  p("## Pseudo-label accuracy vs hidden truth");
  const pt = pseudoTable(s);
  if (pt === null) {
    p("No method in this comparison logged pseudo-label accuracy (it needs pseudo labels and hidden truth, i.e. synthetic data).");
  } else {
    p(
      "Accuracy of the teacher's labels on rows that lack the task's label, scored against the hidden truth; " +
        "kept/rejected = rows the label strategy kept or dropped (hard selection). Mean ± std over seeds.",
    );
    p(pt);
    for (const f of figures.filter((x) => x.kind === "pseudo")) p(img(f));
  }

  out.push(...teacherSection(results));

  p("## Confusion matrices");
  const conf = figures.filter((f) => f.kind === "confusion");
  if (conf.length === 0) p("Figures were turned off.");
  else {p(
      "Test split, summed over seeds; colour and percentage = share of the true class (row), small number = count.",
    );}
  for (const col of s.columns) {
    const fs = conf.filter((f) => f.column === col.key);
    if (fs.length === 0) continue;
    p(`### ${col.key}`);
    for (const f of fs) p(img(f));
  }

  p("## Training time");
  p(timeTable(s));

  p("## Reproducibility");
  p("Command:", "", "```sh", results.command, "```");
  p(
    `- Profile: \`${results.profile}\``,
    `- Model: \`${results.model}\``,
    `- Datasets: ${results.datasets.map((d) => `\`${d}\``).join(", ")}`,
    `- Seeds: ${results.seeds.join(", ")}`,
    `- Budget: ${Object.entries(results.budget).map(([k, v]) => `${k}=${v}`).join(", ") || "—"}`,
    `- Backend: ${
      uniq(results.runs.map((r) => {
        const b = r.backend;
        const extra = [
          b.kernelPack ? `kernels ${b.kernelPack}` : "",
          b.simd === undefined ? "" : `simd ${b.simd}`,
          b.threads === undefined ? "" : `${b.threads} threads`,
          b.device ?? "",
        ].filter((x) => x !== "");
        return extra.length ? `${b.name} (${extra.join(", ")})` : b.name;
      })).join("; ")
    }`,
    `- Versions: ${
      uniq(results.runs.flatMap((r) => Object.entries(r.versions).map(([k, v]) => `${k} ${v}`))).sort().join(
        ", ",
      ) || "—"
    }`,
    `- Machine: ${results.machine.os}/${results.machine.arch}, ${results.machine.cpus} CPUs` +
      (results.machine.cpuModel ? ` (${results.machine.cpuModel})` : "") +
      (results.machine.memoryGiB ? `, ${results.machine.memoryGiB} GiB` : ""),
    `- Started: ${results.startedAt ?? "—"}; finished: ${results.finishedAt ?? "—"}; wall time ${
      fmtNum(results.wallSeconds, 1)
    } s`,
  );
  p("<details><summary>Every run: directory and command</summary>", "");
  p(
    "| Method | Seed | Run directory | Train s | Command |",
    "| --- | ---: | --- | ---: | --- |",
    ...results.runs.map((r) =>
      `| ${r.method} | ${r.seed} | \`${r.runDir}\` | ${fmtNum(r.trainSeconds, 1)} | \`${
        r.command.replaceAll("|", "\\|")
      }\` |`
    ),
  );
  p("</details>");

  p("## Files");
  p(
    "- `results.json`: every number above (`summary`, `verdict`) and the runner's input (`input`), fractions not percent.",
    "- `results.csv`: one row per method × column × metric (`acc`, `mean_class_acc`) with mean, std and the paired " +
      "difference to the baseline; plus `delta_m_pct` and `train_seconds` rows.",
    "- `runs.csv`: the raw per-run numbers with run directory and command.",
    "- `figures/`: every figure as SVG and PNG.",
  );
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

if (import.meta.main) {
  const [input, outDir] = Deno.args;
  if (!input || !outDir) {
    console.error("usage: deno run -A runner/report/mod.ts RESULTS_JSON OUT_DIR");
    Deno.exit(2);
  }
  try {
    await writeReport(await readResults(input), outDir);
    console.log(`report written to ${join(outDir, "report.md")}`);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

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
import { failedSection, type TeacherRow, teacherRows, teacherSection } from "./job.ts";
import { join } from "node:path";
import { stringifyCsv } from "../../core/csv.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../core/fs.ts";
import { isAflwPose } from "../../datasets/label_spaces.ts";
import { type FigureOptions, type FigureRef, MAX_OVERLAID, writeFigures } from "./figures.ts";
import {
  comparisonDir,
  OUT_PLACEHOLDER,
  placeholderCommand,
  placeholderCompareCommand,
  relativeRunDir,
} from "./run_paths.ts";
import {
  type CompareResults,
  type FailedRunInfo,
  type InterimInfo,
  ResultsError,
  type RunResult,
  validateCompareResults,
} from "./results.ts";
import { sampleStd } from "./stats.ts";
import {
  fmtNum,
  fmtPct,
  MAIN_TABLE_HEADING,
  mainTable,
  MCA_TABLE_HEADING,
  pseudoTable,
  type ReportSummary,
  summarize,
  timeTable,
} from "./table.ts";
import { buildVerdict, type Verdict } from "./verdict.ts";
import { analyze, type ChanceLevel, type Contrast, type ReportAnalysis } from "./analysis.ts";
import {
  CHANCE_HEADING,
  chanceTable,
  claimTable,
  CONVERGENCE_HEADING,
  convergenceTable,
  DIFF_TABLE_HEADING,
  diffTable,
  howToRead,
} from "./sections.ts";
import type { ColumnConvergence } from "./convergence.ts";

export * from "./results.ts";
export * from "./stats.ts";
export * from "./table.ts";
export * from "./verdict.ts";
export * from "./validity.ts";
export * from "./figures.ts";
export * from "./analysis.ts";
export * from "./inference.ts";
export * from "./bootstrap.ts";
export * from "./convergence.ts";
export * from "./sections.ts";
export * from "./results_file.ts";

/**
 * Format tag of the results.json this module writes. 2: adds `wallSeconds`, `runs` (convergence per run),
 * `contrasts` (intervals, Holm, MDD), `claimContrasts`, `chance`, `halfWidth` and `statistics`. 3: adds
 * `dataSeed`, `teachers` (per pseudo-labelled task × dataset: `teacherAcc`, `teacherAccInDomain`) and
 * `failedRuns`; later in 3, as optional fields readers may lack: `halfWidth.seedsNeeded`,
 * `halfWidth.seedsNeededUpper`, `halfWidth.widest`
 * (later with `diffStd`, `methodStd`, `referenceStd`), `interim` (null unless `--report_only --interim`), and
 * in the input `sittings` and `interim`.
 */
export const RESULTS_FORMAT = "sa-mtl-compare-report/4";

/** One run's line in results.json: who, which seed, and whether it was still improving. */
export interface RunLine {
  method: string;
  seed: number;
  /** Some column gained more than 1 pp in the last quarter (null: no column could be checked). */
  stillImproving: boolean | null;
  /** Per task/dataset: the last-quarter gain (fraction) and the quarter means. */
  convergence:
    (Pick<ColumnConvergence, "task" | "dataset" | "gain" | "q3" | "q4" | "axis" | "stillImproving">)[];
}

/**
 * What results.json holds: the computed numbers and the runner's input, unchanged. Readers should
 * ignore fields they do not know (later versions add fields without changing these).
 */
export interface ResultsFile {
  format: string;
  /** Wall time of the whole comparison in seconds. */
  wallSeconds: number;
  /** Seed of the data, fixed across training seeds (null: the data followed each training seed). */
  dataSeed: number | null;
  /** Per pseudo-labelled task × dataset: the STL teachers on its hidden truth and in domain (means over seeds). */
  teachers: TeacherRow[];
  /** Runs that failed (the report is computed without them). */
  failedRuns: FailedRunInfo[];
  /** An interim report: the planned seeds and runs, of which it covers the seeds that had finished; else null. */
  interim: InterimInfo | null;
  /** One line per (method, seed). */
  runs: RunLine[];
  /** Every method × task/dataset against the reference (differences are fractions). */
  contrasts: Contrast[];
  /** The proposed method against every other method (the claim; not Holm-corrected). */
  claimContrasts: Contrast[];
  /** Chance level and held-out rows per task/dataset. */
  chance: ChanceLevel[];
  /** The 2 pp goal against the largest interval half-widths. */
  halfWidth: ReportAnalysis["halfWidth"];
  /** Level, α, power, bootstrap resamples, the still-improving threshold. */
  statistics: ReportAnalysis["settings"];
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
  const analysis = analyze(results, summary);
  const verdict = buildVerdict(results, summary, analysis);
  const figures = options.figures === false
    ? []
    : await writeFigures(results, summary, outDir, { ...options, contrasts: analysis.contrasts });
  const file: ResultsFile = {
    format: RESULTS_FORMAT,
    wallSeconds: results.wallSeconds,
    dataSeed: results.dataSeed ?? null,
    teachers: teacherRows(results.teachers ?? []),
    failedRuns: results.failedRuns ?? [],
    interim: results.interim ?? null,
    runs: analysis.convergence.map((r) => ({
      method: r.method,
      seed: r.seed,
      stillImproving: r.stillImproving,
      convergence: r.columns.map(({ task, dataset, gain, q3, q4, axis, stillImproving }) => ({
        task,
        dataset,
        gain,
        q3,
        q4,
        axis,
        stillImproving,
      })),
    })),
    contrasts: analysis.contrasts,
    claimContrasts: analysis.claimContrasts,
    chance: analysis.chance,
    halfWidth: analysis.halfWidth,
    statistics: analysis.settings,
    summary,
    verdict,
    figures,
    input: results,
  };
  await writeJsonAtomic(join(outDir, "results.json"), file);
  await writeFileAtomic(join(outDir, "results.csv"), resultsCsv(summary, analysis));
  await writeFileAtomic(join(outDir, "runs.csv"), runsCsv(results.runs, analysis));
  await writeFileAtomic(
    join(outDir, "report.md"),
    renderReport(results, {
      summary,
      analysis,
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
 * precision): for `acc` against the reference also the paired-t and bootstrap intervals, the Holm p-value,
 * the minimum detectable difference and the call; then `last_quarter_gain` rows (per column, mean and
 * per-seed gains), `delta_m_pct` rows (mean = Δm from seed means, std = spread of per-seed Δm) and
 * `train_seconds` rows (task and dataset `*`).
 */
export function resultsCsv(s: ReportSummary, a?: ReportAnalysis): string {
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
    "ci95_low",
    "ci95_high",
    "boot_ci95_low",
    "boot_ci95_high",
    "p_holm",
    "min_detectable",
    "call",
    "best",
    "seeds",
    "values",
  ];
  const blank = {
    ci95_low: "",
    ci95_high: "",
    boot_ci95_low: "",
    boot_ci95_high: "",
    p_holm: "",
    min_detectable: "",
    call: "",
  };
  const rows: Record<string, string | number>[] = s.cells.map((c) => {
    const k = c.metric === "acc"
      ? a?.contrasts.find((x) => x.method === c.method && x.task === c.task && x.dataset === c.dataset)
      : undefined;
    return {
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
      ...(k
        ? {
          ci95_low: num(k.ci95Low),
          ci95_high: num(k.ci95High),
          boot_ci95_low: num(k.bootCi95Low),
          boot_ci95_high: num(k.bootCi95High),
          p_holm: num(k.pHolm),
          min_detectable: num(k.minDetectable),
          call: k.call,
        }
        : blank),
      best: c.best ? 1 : 0,
      seeds: c.seeds.join(" "),
      values: c.values.join(" "),
    };
  });
  const base = {
    diff_mean: "",
    diff_std: "",
    diff_n: "",
    diff_p: "",
    ...blank,
    best: "",
  };
  for (const m of s.methods) {
    for (const col of s.columns) {
      const per = (a?.convergence ?? []).filter((r) => r.method === m).flatMap((r) =>
        r.columns.filter((c) => c.task === col.task && c.dataset === col.dataset && c.gain !== null).map((
          c,
        ) => ({
          seed: r.seed,
          gain: c.gain!,
        }))
      );
      if (per.length === 0) continue;
      const gains = per.map((x) => x.gain);
      rows.push({
        ...base,
        method: m,
        task: col.task,
        dataset: col.dataset,
        metric: "last_quarter_gain",
        n_seeds: per.length,
        mean: num(gains.reduce((x, y) => x + y, 0) / gains.length),
        std: num(sampleStd(gains)),
        seeds: per.map((x) => x.seed).join(" "),
        values: gains.join(" "),
      });
    }
  }
  for (const m of s.methodStats) {
    const star = { ...base, method: m.method, task: "*", dataset: "*" };
    rows.push({
      ...star,
      metric: "delta_m_pct",
      n_seeds: m.deltaMPerSeed?.n ?? 0,
      mean: num(m.deltaMPct),
      std: num(m.deltaMPerSeed?.std),
      seeds: m.deltaMPerSeed?.seeds.join(" ") ?? "",
      values: m.deltaMPerSeed?.values.join(" ") ?? "",
    });
    rows.push({
      ...star,
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

/**
 * runs.csv: the raw per-run, per-column numbers with the run directory and command of each, the held-out
 * row counts and the convergence check (last-quarter gain of that column, and whether the run is still improving).
 */
export function runsCsv(runs: RunResult[], a?: ReportAnalysis): string {
  const columns = [
    "method",
    "seed",
    "task",
    "dataset",
    "test_acc",
    "test_mean_class_acc",
    "val_acc",
    "n_test",
    "n_val",
    "selected_epoch",
    "last_quarter_gain",
    "still_improving",
    "train_seconds",
    "images_seen",
    "backend",
    "run_dir",
    "command",
  ];
  const rows = runs.flatMap((r, i) =>
    r.results.map((t) => {
      const conv = a?.convergence[i];
      const col = conv?.columns.find((c) => c.task === t.task && c.dataset === t.dataset);
      return {
        method: r.method,
        seed: r.seed,
        task: t.task,
        dataset: t.dataset,
        test_acc: t.testAcc,
        test_mean_class_acc: t.testMeanClassAcc,
        val_acc: num(t.valAcc),
        n_test: t.nTest ?? t.confusion.reduce((x, row) => x + row.reduce((p, q) => p + q, 0), 0),
        n_val: num(t.nVal),
        selected_epoch: num(t.selectedEpoch ?? r.selectedEpoch),
        last_quarter_gain: num(col?.gain),
        still_improving: conv?.stillImproving === null || conv === undefined
          ? ""
          : conv.stillImproving
          ? 1
          : 0,
        train_seconds: r.trainSeconds,
        images_seen: r.imagesSeen,
        backend: r.backend.name,
        run_dir: r.runDir,
        command: r.command,
      };
    })
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
  parts: {
    summary: ReportSummary;
    analysis: ReportAnalysis;
    verdict: Verdict;
    figures: FigureRef[];
    title?: string;
    notice?: string;
  },
): string {
  const { summary: s, analysis: a, verdict, figures } = parts;
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

  p("## How to read this report", "", ...howToRead(results, s, a));

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
  p(CHANCE_HEADING);
  p(
    "Chance = what a model that ignores the image scores: the majority-class share of the labelled test rows " +
      "(mean over runs when the runs' test sets differ) and 1/K for K classes. Row counts: min–max over runs.",
  );
  p(chanceTable(s, a));
  const summaryFig = figures.find((f) => f.kind === "summary");
  if (summaryFig) p(img(summaryFig));

  if (s.baseline !== null) {
    p(DIFF_TABLE_HEADING);
    p(
      `Per seed, method − ${base} on the same seed's data; **Diff** = mean over the seeds (${nSeeds}). ` +
        `**95 % CI, paired t** = Diff ± t₀.₉₇₅,ₙ₋₁ · sd/√n over seeds (needs ≥ 2 seeds). ` +
        `**95 % CI, bootstrap** = percentile interval of ${a.settings.resamples} paired resamples of the test rows ` +
        `(the same rows for both methods${
          a.contrasts.some((c) => c.bootSharedRows === false)
            ? ", per seed where the seeds' test rows differ"
            : ", and for every seed"
        }), the difference of accuracies averaged over the seeds. ` +
        `**p** = two-sided paired t-test; **p (Holm)** = Holm-corrected over the ${a.contrasts.length} contrasts in this table. ` +
        `**MDD** = minimum detectable difference at α ${a.settings.alpha} (two-sided) and power ${a.settings.power}: ` +
        `the true difference δ at which the paired t-test rejects with that probability (its statistic is ` +
        `noncentral t, n − 1 degrees of freedom, noncentrality δ√n/sd), sd = the std of the per-seed differences, ` +
        `taken as known. ` +
        `**Reads** = better/worse when both intervals exclude zero on that side (the paired t interval alone where ` +
        `no bootstrap exists: runs without per-row predictions, or whose test rows differ), else cannot tell; ` +
        `"(not after Holm)" marks a call whose Holm-adjusted p is not below α ${a.settings.alpha}. MDD is per ` +
        `contrast, at the unadjusted α.`,
    );
    p(a.contrasts.length ? diffTable(a) : "No method shares a column with the reference.");
    const diffFig = figures.find((f) => f.kind === "differences");
    if (diffFig) p(img(diffFig));
    if (s.proposed && a.claimContrasts.length) {
      p(`### ${s.proposed} against each other method (the paper's claim)`);
      p(
        `Per seed, ${s.proposed} − the other method on the same seed's data, with the same intervals and reading ` +
          `rule as above, not Holm-corrected: the verdict's claim line reads this table.`,
      );
      p(claimTable(a));
    }
  }

  p(CONVERGENCE_HEADING);
  p(
    `Per run and column: mean validation accuracy over the last quarter of its training budget (images seen) minus ` +
      `the quarter before, in pp; mean over seeds, and how many seeds gained more than ${
        fmtPct(a.settings.stillImproving)
      } pp (**bold** = some seed still improving). ` +
      `"too few points": the run logged no validation point in one of the last two quarters (it needs at least 4 ` +
      `evaluations over its budget). ` +
      (results.runs.some((r) => (r.evalsPerCycle ?? 1) > 1)
        ? `Alternating runs evaluate after each dataset's epoch, so a column is high after its own epoch and low ` +
          `after the others': each cycle (one evaluation per dataset) is averaged into one point at its end ` +
          `(so they need at least 4 cycles) ` +
          `before the quarters are taken, or the quarters' unequal numbers of highs and lows would read as a gain. `
        : "") +
      `${verdict.stillImproving.runs} of ${verdict.stillImproving.total} runs are still improving.`,
  );
  p(convergenceTable(s, a));

  p(MCA_TABLE_HEADING);
  p("Mean per-class recall on the test split (robust to class imbalance); same layout as the main table.");
  p(mainTable(s, "mean_class_acc"));

  p("## Training curves");
  p(
    "Validation accuracy against training images seen (one point per evaluation; for methods that alternate " +
      "between datasets, one per cycle of an evaluation per dataset, their mean), so alternating and joint " +
      "methods share one axis; mean over seeds." +
      (s.methods.length > MAX_OVERLAID
        ? ` With more than ${MAX_OVERLAID} methods, each has a panel of its own${
          s.baseline !== null && s.methods.includes(s.baseline) ? `, with ${s.baseline} as a grey line` : ""
        }.`
        : ""),
  );
  const curves = figures.filter((f) => f.kind === "curves");
  if (curves.length === 0) p("No validation-accuracy curves were logged (or figures were turned off).");
  for (const f of curves) p(img(f));

  p("## Pseudo-label accuracy vs hidden truth");
  const pt = pseudoTable(s);
  if (pt === null) {
    p("No method in this comparison logged pseudo-label accuracy (it needs pseudo labels and hidden truth, i.e. synthetic data).");
  } else {
    p(
      "Accuracy of the teacher's labels on rows that lack the task's label, scored against the hidden truth. " +
        "Kept/rejected = the rows a strategy that weights its labels kept or not: hard selection keeps the rows " +
        "above its threshold; soft interpolation (SA-MTL's default preset) keeps every row whose weight is above " +
        "zero and gives the others only the teacher's distilled vector. Kept share = the share of rows kept at the " +
        "last refresh: a rejected accuracy over a share near zero rests on a handful of rows. First epoch = the " +
        "first labels a run logs: from the untrained model (near chance) for a method that labels before its first " +
        "epoch, after that epoch for one that labels later. Highest = the best over the run's epochs, scored on the hidden " +
        "truth the run never sees: an upper bound, not the labels of the selected checkpoint. The teacher here is " +
        "the run's own model, not the STL teachers of the next section. Mean ± std over seeds. In the figures the " +
        "dashed line is chance, 1/K for the task's K classes.",
    );
    p(pt);
    for (const f of figures.filter((x) => x.kind === "pseudo")) p(img(f));
  }

  out.push(...teacherSection(results));

  p("## Confusion matrices");
  const conf = figures.filter((f) => f.kind === "confusion");
  if (conf.length === 0) p("Figures were turned off.");
  else {p(
      "Test split, summed over seeds; colour and percentage = share of the true class (row), small number = count." +
        (s.columns.some((c) => isAflwPose(c.task, c.classNames))
          ? " Pose classes are the AFLW yaw bins under the original code's names, which the figures follow with each " +
            'bin\'s yaw range: its "profile" classes are the moderate turns.'
          : ""),
    );}
  for (const col of s.columns) {
    const fs = conf.filter((f) => f.column === col.key);
    if (fs.length === 0) continue;
    p(`### ${col.key}`);
    for (const f of fs) p(img(f));
  }

  p("## Training time");
  p(
    "Wall time of each run as it ran: runs of a comparison share the machine (two at a time by default, " +
      "beside whatever else ran), so these compare methods' speed only roughly.",
  );
  p(timeTable(s));

  p("## Reproducibility");
  // Where the runs were written on the machine that ran them says nothing to a reader; `$OUT` stands for it.
  const dir = comparisonDir(results.runs.map((r) => r.runDir));
  const command = dir === undefined ? results.command : placeholderCompareCommand(results.command, dir);
  p(
    command.includes(`--out=${OUT_PLACEHOLDER}`)
      ? `Command (\`${OUT_PLACEHOLDER}\` is the comparison's directory):`
      : "Command:",
    "",
    "```sh",
    command,
    "```",
  );
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
    timesLine(results),
  );
  p("<details><summary>Every run: directory and command</summary>", "");
  if (dir !== undefined) {
    p(
      "Run directories are relative to the comparison's directory (its `--out`, where `runs/` is); in the " +
        `commands \`${OUT_PLACEHOLDER}\` stands for that directory: set \`OUT\` to it before running one.`,
    );
  }
  p(
    "| Method | Seed | Run directory | Train s | Command |",
    "| --- | ---: | --- | ---: | --- |",
    ...results.runs.map((r) => {
      const runDir = dir === undefined ? r.runDir : relativeRunDir(r.runDir, dir);
      const runCommand = dir === undefined ? r.command : placeholderCommand(r.command, dir);
      return `| ${r.method} | ${r.seed} | \`${runDir}\` | ${fmtNum(r.trainSeconds, 1)} | \`${
        runCommand.replaceAll("|", "\\|")
      }\` |`;
    }),
  );
  p("</details>");

  p("## Files");
  p(
    `- \`results.json\` (format \`${RESULTS_FORMAT}\`): every number above, fractions not percent: \`wallSeconds\`, \`dataSeed\`, ` +
      "`teachers` (per pseudo-labelled task × dataset `teacherAcc`, `teacherAccInDomain`), `failedRuns`, " +
      (results.interim
        ? "`interim` (`plannedSeeds`, `finishedRuns`, `plannedRuns`: what this interim report leaves out), "
        : "") +
      "`runs` (per run `method`, `seed`, `stillImproving` and the per-column gains), `contrasts` (per method × " +
      "task/dataset `diffMean`, `ci95Low`, `ci95High`, `bootCi95Low`, `bootCi95High`, `pHolm`, `minDetectable`, `call`), " +
      "`claimContrasts`, `chance`, `halfWidth` (with `seedsNeeded`, `seedsNeededUpper` at the spreads' 80 % upper bounds, and the `widest` contrast: its spread and each side's own), `summary`, `verdict` (with `validity`: `passes`, each check's `ok`, and the methods `improvingOnAverage`) and the runner's input (`input`, with each " +
      "run's per-row test correctness).",
    "- `results.csv`: one row per method × column × metric (`acc`, `mean_class_acc`) with mean, std, the paired " +
      "difference to the reference and its intervals; plus `last_quarter_gain`, `delta_m_pct` and `train_seconds` rows.",
    "- `runs.csv`: the raw per-run numbers with held-out row counts, the convergence check, run directory and command.",
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

/** When the comparison ran; a resumed one says over how many sittings its wall time is summed. */
function timesLine(results: CompareResults): string {
  const line = `- Started: ${results.startedAt ?? "—"}; finished: ${results.finishedAt ?? "—"}; wall time ${
    fmtNum(results.wallSeconds, 1)
  } s`;
  const n = results.sittings ?? 1;
  return n <= 1
    ? line
    : `${line}, summed over ${n} sittings (\`--resume\` continues a comparison; each sitting ` +
      "counts from its start to its last finished run)";
}

/**
 * Can the report's numbers be cited? The verdict's first judgement, from checks the report already makes:
 * enough seeds for a paired interval to mean something, the reference at its plateau (a comparison whose
 * reference still learns ranks methods by how fast they start), every paired-t half-width within the goal,
 * and every planned run finished. Methods other than the reference that are still improving on average are
 * named beside the checks rather than failing them: a method that has not plateaued within a budget equal
 * for all is a finding about that method, and the issue that set the checks asks the budget to let the
 * reference plateau, not every method.
 * @module
 */
import type { ReportAnalysis } from "./analysis.ts";
import { methodColumnGains } from "./convergence.ts";
import type { CompareResults } from "./results.ts";
import { fmtPct, fmtPctBeside, fmtPp, type ReportSummary } from "./table.ts";

/** Fewest training seeds whose paired-t interval the validity check accepts. */
export const MIN_SEEDS = 3;

/** Methods still improving on average that the line names one by one; beyond this it counts them. */
const MAX_NAMED = 4;

/** One check of {@link Validity}. */
export interface ValidityCheck {
  name: "seeds" | "referencePlateau" | "precision" | "complete";
  /** Passed, failed, or null when it cannot be checked (no reference, no curves, fewer than 2 seeds). */
  ok: boolean | null;
  /** What was measured, in words (the report's line quotes it). */
  detail: string;
}

/** The validity judgement (written to results.json inside the verdict). */
export interface Validity {
  /** Every check passed. */
  passes: boolean;
  checks: ValidityCheck[];
  /** Methods other than the reference whose mean last-quarter gain over seeds is above the threshold. */
  improvingOnAverage: { method: string; column: string; meanGain: number }[];
}

/** Method × column accuracy cells that have runs for some seeds but not all (the verdict's "Missing runs"). */
export function incompleteCells(s: ReportSummary): ReportSummary["cells"] {
  return s.cells.filter((c) => c.metric === "acc" && c.n > 0 && c.n < s.seeds.length);
}

/** The checks and the verdict's bullet line. */
export function judgeValidity(
  results: CompareResults,
  s: ReportSummary,
  a: ReportAnalysis,
): { validity: Validity; line: string } {
  const threshold = a.settings.stillImproving;
  const n = s.seeds.length;
  const gains = methodColumnGains(a.convergence, s.methods, s.columns);
  const colKey = (g: { task: string; dataset: string }) => `${g.task}/${g.dataset}`;
  const checks: ValidityCheck[] = [];

  checks.push({
    name: "seeds",
    ok: n >= MIN_SEEDS,
    detail: `at least ${MIN_SEEDS} seeds (${n})`,
  });

  const base = s.baseline;
  const baseGains = base === null ? [] : gains.filter((g) => g.method === base);
  const known = baseGains.filter((g) => g.meanGain !== null);
  const over = known.filter((g) => g.meanGain! > threshold);
  checks.push({
    name: "referencePlateau",
    // A column over the line fails it; columns too short to check leave it unknown, not passed.
    ok: base === null || known.length === 0
      ? null
      : over.length > 0
      ? false
      : known.length === baseGains.length
      ? true
      : null,
    detail: base === null
      ? "the reference at its plateau (no reference method)"
      : known.length === 0
      ? `${base} at its plateau (no validation curve to check)`
      : `${base} at its plateau (mean last-quarter gain over the seeds at most ${fmtPct(threshold)} pp: ${
        known.map((g) => `${fmtPp(g.meanGain)} pp on ${colKey(g)}`).join(", ")
      }${
        known.length < baseGains.length
          ? `, ${baseGains.length - known.length} column(s) too short to check`
          : ""
      })`,
  });

  const hw = a.halfWidth;
  checks.push({
    name: "precision",
    ok: hw.met,
    detail: `every paired-t half-width within ${fmtPct(hw.goal)} pp (${
      hw.maxT === null
        ? "no paired-t interval: fewer than 2 seeds"
        : `widest ${fmtPctBeside(hw.maxT, hw.goal)} pp`
    })`,
  });

  const failed = results.failedRuns?.length ?? 0;
  const missing = incompleteCells(s).length;
  const gaps = [
    ...(results.interim ? [`interim: ${n} of ${results.interim.plannedSeeds.length} planned seeds`] : []),
    ...(failed ? [`${failed} failed run${failed === 1 ? "" : "s"}`] : []),
    ...(missing ? [`${missing} method × column cell${missing === 1 ? "" : "s"} missing seeds`] : []),
  ];
  checks.push({
    name: "complete",
    ok: gaps.length === 0,
    detail: `every planned run finished${gaps.length ? ` (${gaps.join(", ")})` : ""}`,
  });

  const improvingOnAverage = gains
    .filter((g) => g.method !== base && g.meanGain !== null && g.meanGain > threshold)
    .map((g) => ({ method: g.method, column: colKey(g), meanGain: g.meanGain! }));
  const passes = checks.every((c) => c.ok === true);

  const failedChecks = checks.filter((c) => c.ok === false);
  const unchecked = checks.filter((c) => c.ok === null);
  const passed = checks.filter((c) => c.ok === true);
  const list = (cs: ValidityCheck[]) => cs.map((c) => c.detail).join("; ");
  const head = passes ? `the report's ${checks.length} checks **pass**: ${list(passed)}.` : [
    "**not yet a measurement to cite**.",
    ...(failedChecks.length ? [`Failed: ${list(failedChecks)}.`] : []),
    ...(unchecked.length ? [`Not checked: ${list(unchecked)}.`] : []),
    ...(passed.length ? [`Passed: ${list(passed)}.`] : []),
    ...(checks.find((c) => c.name === "referencePlateau")!.ok === false
      ? [
        `While ${base} still learns, the calls below rank methods as much by how fast they learn as by where ` +
        "they end (a longer budget: `--passes`).",
      ]
      : []),
  ].join(" ");
  const improvingText = improvingOnAverage.length === 0
    ? ""
    : improvingOnAverage.length <= MAX_NAMED
    ? ` Still improving on average (mean last-quarter gain over the seeds above ${fmtPct(threshold)} pp): ${
      improvingOnAverage.map((g) => `${g.method} on ${g.column} (${fmtPp(g.meanGain)} pp)`).join(", ")
    }: their numbers there may be below their plateau, and a longer budget can move the calls that involve them.`
    : ` ${
      ((k) => `${k} other method${k === 1 ? " is" : "s are"}`)(
        new Set(improvingOnAverage.map((g) => g.method)).size,
      )
    } still improving on average ` +
      `(mean last-quarter gain over the seeds above ${
        fmtPct(threshold)
      } pp) on ${improvingOnAverage.length} ` +
      `columns in all (the convergence table).`;
  return {
    validity: { passes, checks, improvingOnAverage },
    line: `- **Validity**: ${head}${improvingText}`,
  };
}

/**
 * One line for a terminal: "the report's 4 checks pass", or "not yet a measurement to cite (failed: …)" naming
 * each failed or unchecked check by its requirement (its detail up to the measured part in parentheses).
 */
export function validitySummary(v: Validity): string {
  if (v.passes) return `the report's ${v.checks.length} checks pass`;
  const name = (c: ValidityCheck) => c.detail.replace(/ \(.*$/s, "");
  const failed = v.checks.filter((c) => c.ok === false).map(name);
  const unchecked = v.checks.filter((c) => c.ok === null).map(name);
  return `not yet a measurement to cite (${
    [
      ...(failed.length ? [`failed: ${failed.join(", ")}`] : []),
      ...(unchecked.length ? [`not checked: ${unchecked.join(", ")}`] : []),
    ].join("; ")
  })`;
}

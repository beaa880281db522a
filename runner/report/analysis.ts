/**
 * The statistics of the report beyond means: for every method × task/dataset against the reference
 * (STL), the paired difference over seeds with its paired-t 95 % interval, a paired bootstrap interval
 * over test rows, Holm-corrected p-values over the family of contrasts with the reference and the
 * minimum detectable difference; the proposed method against every other method (the paper's claim);
 * the convergence check of every run; chance levels and the held-out row counts.
 * @module
 */
import { Rng } from "../../core/rng.ts";
import { correctnessBytes, pairedBootstrap, type RowPair } from "./bootstrap.ts";
import { type RunConvergence, runConvergence, STILL_IMPROVING } from "./convergence.ts";
import { holm, minDetectableDiff, pairedTInterval, sdUpperBound, seedsForHalfWidth } from "./inference.ts";
import type { CompareResults, RunResult, TaskResult } from "./results.ts";
import { pairedDiff, sampleStd } from "./stats.ts";
import { type Column, findCell, type ReportSummary } from "./table.ts";

/** Confidence level of every interval. */
export const CI_LEVEL = 0.95;
/** Family-wise α of the Holm correction and of the minimum detectable difference. */
export const ALPHA = 0.05;
/** Power of the minimum detectable difference. */
export const POWER = 0.8;
/** Bootstrap resamples per contrast. */
export const BOOTSTRAP_RESAMPLES = 2000;
/** The interval half-width the benchmark aims for (fraction): 2 pp. */
export const HALF_WIDTH_GOAL = 0.02;
/** Validation sets smaller than this are flagged (the convergence check needs a stable curve). */
export const MIN_VAL_ROWS = 1000;

/** How a contrast reads: the intervals exclude zero above or below, or one of them spans it. */
export type Call = "better" | "worse" | "cannot tell";

/** One method against another on one task/dataset (differences are fractions: method − other). */
export interface Contrast {
  method: string;
  other: string;
  task: string;
  dataset: string;
  /** `task/dataset`. */
  column: string;
  /** Seeds both have. */
  seeds: number[];
  /** Mean over seeds of the paired difference. */
  diffMean: number | null;
  /** Sample std of the per-seed differences. */
  diffStd: number | null;
  /** Paired-t 95 % interval over seeds (null with fewer than 2 seeds). */
  ci95Low: number | null;
  ci95High: number | null;
  /** Half-width of the paired-t interval. */
  ci95HalfWidth: number | null;
  /** Two-sided paired t-test p-value. */
  p: number | null;
  /** Holm-adjusted p-value over the contrasts with the reference (null for other contrasts). */
  pHolm: number | null;
  /** Smallest true difference detected at α 0.05 (two-sided) with power 0.8 by this paired t design. */
  minDetectable: number | null;
  /** Paired bootstrap over test rows: observed difference and 95 % percentile interval. */
  bootDiff: number | null;
  bootCi95Low: number | null;
  bootCi95High: number | null;
  /** Seeds the bootstrap used (those whose test rows pair up) and whether they share one test set. */
  bootSeeds: number;
  bootSharedRows: boolean | null;
  /** `better`/`worse`: every available interval excludes zero on that side; else `cannot tell`. */
  call: Call;
}

/** Chance level of one task/dataset's test set. */
export interface ChanceLevel {
  column: string;
  /** Share of the most frequent class among the labelled test rows (mean over runs when they differ). */
  majority: number | null;
  /** 1 / number of classes. */
  uniform: number;
  /** Labelled test rows (min and max over runs). */
  nTestMin: number | null;
  nTestMax: number | null;
  /** Labelled validation rows (min and max over runs; null when the runs did not record it). */
  nValMin: number | null;
  nValMax: number | null;
}

/** The contrast with the largest spread of per-seed differences (fractions). */
export interface WidestContrast {
  method: string;
  column: string;
  /** Sample std of the per-seed differences method − reference. */
  diffStd: number;
  /** Sample std over the same seeds of the method's accuracy, and of the reference's. */
  methodStd: number | null;
  referenceStd: number | null;
}

/** Everything {@link analyze} computes. */
export interface ReportAnalysis {
  reference: string | null;
  /** Each method (not the reference) × column against the reference; Holm over exactly these. */
  contrasts: Contrast[];
  /** The proposed method against every other method, per column (not Holm-corrected). */
  claimContrasts: Contrast[];
  convergence: RunConvergence[];
  chance: ChanceLevel[];
  /**
   * The 2 pp goal: largest half-widths of the paired-t and bootstrap intervals against the reference, and
   * `seedsNeeded`, the seeds at which every paired-t half-width would meet it if each contrast's
   * per-seed spread stayed as observed (null without a spread, or beyond 10,000 seeds), and `widest`, the
   * contrast whose spread sets it: the sd of its per-seed differences and, over the same seeds, the sd of the
   * method's and of the reference's own accuracies, which say whose seed-to-seed spread the difference inherits.
   */
  halfWidth: {
    goal: number;
    maxT: number | null;
    maxBoot: number | null;
    met: boolean | null;
    seedsNeeded: number | null;
    /**
     * The seeds that would meet the goal if each contrast's spread were at its one-sided
     * {@link UPPER_BOUND_LEVEL} upper confidence bound (`sdUpperBound`): a plan that reaches the goal at least
     * that often, where `seedsNeeded` falls short about half the time (null as `seedsNeeded`).
     */
    seedsNeededUpper: number | null;
    widest: WidestContrast | null;
  };
  settings: {
    level: number;
    alpha: number;
    power: number;
    resamples: number;
    stillImproving: number;
    minValRows: number;
  };
}

/** The confidence of the spread's upper bound a seed plan rests on (Browne's 80 %, see `sdUpperBound`). */
export const UPPER_BOUND_LEVEL = 0.8;

/** {@link ReportAnalysis.halfWidth}'s `seedsNeededUpper`: the most any contrast needs at its bound. */
function seedsAtUpperBound(contrasts: Contrast[]): number | null {
  let most: number | null = null;
  for (const c of contrasts) {
    if (c.diffStd === null || c.seeds.length < 2) continue;
    const upper = sdUpperBound(c.diffStd, c.seeds.length - 1, UPPER_BOUND_LEVEL);
    const n = seedsForHalfWidth(upper, HALF_WIDTH_GOAL, { level: CI_LEVEL });
    if (n === null) return null;
    most = Math.max(most ?? 0, n);
  }
  return most;
}

/** {@link WidestContrast} of `c`: its spread and its two sides' own spreads over its seeds. */
function widestContrast(s: ReportSummary, c: Contrast): WidestContrast {
  const col = s.columns.find((x) => x.key === c.column)!;
  const ownStd = (method: string) => {
    const bySeed = seedMap(s, method, col);
    return sampleStd(c.seeds.map((seed) => bySeed.get(seed)!));
  };
  return {
    method: c.method,
    column: c.column,
    diffStd: c.diffStd!,
    methodStd: ownStd(c.method),
    referenceStd: ownStd(c.other),
  };
}

function taskOf(run: RunResult, col: Column): TaskResult | undefined {
  return run.results.find((t) => t.task === col.task && t.dataset === col.dataset);
}

function seedMap(s: ReportSummary, method: string, col: Column): Map<number, number> {
  const c = findCell(s, method, col, "acc");
  return new Map(c.seeds.map((seed, i) => [seed, c.values[i]]));
}

/** Contrast `method` − `other` on one column (Holm left null; {@link analyze} fills it). */
export function contrast(
  results: CompareResults,
  s: ReportSummary,
  method: string,
  other: string,
  col: Column,
): Contrast {
  const paired = pairedDiff(seedMap(s, method, col), seedMap(s, other, col));
  const ci = pairedTInterval(paired.values, CI_LEVEL);
  const pairs: RowPair[] = [];
  for (const seed of paired.seeds) {
    // The run of that method and seed with this column (unmerged single-task runs are one per task).
    const find = (m: string) =>
      results.runs.filter((r) => r.method === m && r.seed === seed).map((r) => taskOf(r, col)).find((t) => t);
    const ta = find(method);
    const tb = find(other);
    // Rows pair up only when both runs scored the same test rows in the same order.
    if (!ta?.testCorrect || !tb?.testCorrect || ta.testRows !== tb.testRows) continue;
    pairs.push({
      a: correctnessBytes(ta.testCorrect),
      b: correctnessBytes(tb.testCorrect),
      rows: ta.testRows!,
    });
  }
  // One stream per contrast, named by it: the interval does not depend on which contrasts are computed.
  const boot = pairedBootstrap(pairs, {
    rng: new Rng(`bootstrap:${method}|${other}|${col.key}`),
    resamples: BOOTSTRAP_RESAMPLES,
    level: CI_LEVEL,
  });
  const excludes = (lo: number | null, hi: number | null) =>
    lo === null || hi === null ? null : lo > 0 ? "better" : hi < 0 ? "worse" : "spans";
  const tSide = ci ? excludes(ci.low, ci.high) : null;
  const bSide = boot ? excludes(boot.low, boot.high) : null;
  // Called only when the seed interval exists and every available interval excludes zero on one side.
  const call: Call = tSide !== null && tSide !== "spans" && (bSide === null || bSide === tSide)
    ? tSide
    : "cannot tell";
  return {
    method,
    other,
    task: col.task,
    dataset: col.dataset,
    column: col.key,
    seeds: paired.seeds,
    diffMean: paired.mean,
    diffStd: paired.std,
    ci95Low: ci?.low ?? null,
    ci95High: ci?.high ?? null,
    ci95HalfWidth: ci?.halfWidth ?? null,
    p: ci?.p ?? null,
    pHolm: null,
    minDetectable: paired.std === null
      ? null
      : minDetectableDiff(paired.std, paired.n, { alpha: ALPHA, power: POWER }),
    bootDiff: boot?.observed ?? null,
    bootCi95Low: boot?.low ?? null,
    bootCi95High: boot?.high ?? null,
    bootSeeds: boot?.pairs ?? 0,
    bootSharedRows: boot?.sharedRows ?? null,
    call,
  };
}

function chanceOf(results: CompareResults, col: Column): ChanceLevel {
  const majorities: number[] = [];
  const nTest: number[] = [];
  const nVal: number[] = [];
  for (const r of results.runs) {
    const t = taskOf(r, col);
    if (!t) continue;
    const rowSums = t.confusion.map((row) => row.reduce((a, b) => a + b, 0));
    const total = rowSums.reduce((a, b) => a + b, 0);
    if (total > 0) {
      majorities.push(Math.max(...rowSums) / total);
      nTest.push(total);
    }
    if (typeof t.nVal === "number") nVal.push(t.nVal);
  }
  const meanOf = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const min = (xs: number[]) => (xs.length ? Math.min(...xs) : null);
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
  return {
    column: col.key,
    majority: meanOf(majorities),
    uniform: 1 / col.classNames.length,
    nTestMin: min(nTest),
    nTestMax: max(nTest),
    nValMin: min(nVal),
    nValMax: max(nVal),
  };
}

/** Compute the report's statistics from the runs and their summary. */
export function analyze(results: CompareResults, s: ReportSummary): ReportAnalysis {
  const contrasts: Contrast[] = [];
  if (s.baseline !== null) {
    for (const m of s.methods) {
      if (m === s.baseline) continue;
      for (const col of s.columns) {
        if (findCell(s, m, col).n === 0 || findCell(s, s.baseline, col).n === 0) continue;
        contrasts.push(contrast(results, s, m, s.baseline, col));
      }
    }
    const adjusted = holm(contrasts.map((c) => c.p));
    contrasts.forEach((c, i) => (c.pHolm = adjusted[i]));
  }
  const claimContrasts: Contrast[] = [];
  if (s.proposed !== null) {
    for (const col of s.columns) {
      if (findCell(s, s.proposed, col).n === 0) continue;
      for (const o of s.methods) {
        if (o === s.proposed || findCell(s, o, col).n === 0) continue;
        claimContrasts.push(contrast(results, s, s.proposed, o, col));
      }
    }
  }
  const ts = contrasts.map((c) => c.ci95HalfWidth).filter((x): x is number => x !== null);
  const bs = contrasts.filter((c) => c.bootCi95Low !== null).map((c) =>
    (c.bootCi95High! - c.bootCi95Low!) / 2
  );
  const maxT = ts.length ? Math.max(...ts) : null;
  // The seeds needed grow with the spread, so the widest contrast sets them for all.
  const widest = contrasts.filter((c) => c.diffStd !== null).reduce<Contrast | null>(
    (w, c) => (w === null || c.diffStd! > w.diffStd! ? c : w),
    null,
  );
  return {
    reference: s.baseline,
    contrasts,
    claimContrasts,
    convergence: results.runs.map(runConvergence),
    chance: s.columns.map((col) => chanceOf(results, col)),
    halfWidth: {
      goal: HALF_WIDTH_GOAL,
      maxT,
      maxBoot: bs.length ? Math.max(...bs) : null,
      // Every contrast needs a seed interval for the goal to be met.
      met: maxT === null ? null : ts.length === contrasts.length && maxT <= HALF_WIDTH_GOAL,
      seedsNeeded: widest && seedsForHalfWidth(widest.diffStd!, HALF_WIDTH_GOAL, { level: CI_LEVEL }),
      seedsNeededUpper: seedsAtUpperBound(contrasts),
      widest: widest && widestContrast(s, widest),
    },
    settings: {
      level: CI_LEVEL,
      alpha: ALPHA,
      power: POWER,
      resamples: BOOTSTRAP_RESAMPLES,
      stillImproving: STILL_IMPROVING,
      minValRows: MIN_VAL_ROWS,
    },
  };
}

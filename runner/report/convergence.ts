/**
 * Has a run stopped learning? Per (task, dataset), the mean validation accuracy logged in the last
 * quarter of the training budget is compared with the quarter before, the budget measured in training
 * images seen (so joint and alternating methods are judged on the same axis). A gain above
 * {@link STILL_IMPROVING} flags the run "still improving": its budget ends on a slope, not a plateau.
 * @module
 */
import type { CurvePoint, RunResult } from "./results.ts";

/** Gain (fraction) of the last quarter over the one before above which a run is still improving: 1 pp. */
export const STILL_IMPROVING = 0.01;

/** One validation value and where on the budget it was logged. */
export interface BudgetPoint {
  /** Training images seen when it was logged (or the epoch, when images were not logged). */
  x: number;
  /** Validation accuracy. */
  value: number;
}

/** The last-quarter check of one series. */
export interface QuarterGain {
  /** Mean validation accuracy of the third and of the last quarter (null when a quarter has no point). */
  q3: number | null;
  q4: number | null;
  /** q4 − q3 (null when either is missing). */
  gain: number | null;
  /** Points in each of the two quarters. */
  n3: number;
  n4: number;
  /** The budget the quarters divide: the x of the last point. */
  budget: number;
}

/**
 * Split (0, budget] into quarters, budget = the largest x; quarter k holds the points with
 * (k − 1)·budget/4 < x <= k·budget/4 (a point is the model's state after that many images). Returns the
 * means of quarters 3 and 4 and their difference; a quarter without a point leaves the gain null, which
 * needs at least one evaluation in each of the last two quarters (4 evenly spaced evaluations or more).
 */
export function lastQuarterGain(points: BudgetPoint[]): QuarterGain {
  const pts = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.value));
  const budget = pts.reduce((a, p) => Math.max(a, p.x), 0);
  const inQuarter = (k: number) =>
    pts.filter((p) =>
      p.x > ((k - 1) * budget) / 4 + 1e-9 * budget && p.x <= (k * budget) / 4 + 1e-9 * budget
    );
  const avg = (xs: BudgetPoint[]) => (xs.length ? xs.reduce((a, p) => a + p.value, 0) / xs.length : null);
  const three = inQuarter(3);
  const four = inQuarter(4);
  const q3 = avg(three);
  const q4 = avg(four);
  return {
    q3,
    q4,
    gain: q3 === null || q4 === null ? null : q4 - q3,
    n3: three.length,
    n4: four.length,
    budget,
  };
}

/** The check of one (task, dataset) of a run. */
export interface ColumnConvergence extends QuarterGain {
  task: string;
  dataset: string;
  /** The x axis used: `images` (images seen) or `epoch` (older logs without images seen). */
  axis: "images" | "epoch";
  /** gain > {@link STILL_IMPROVING}; null when the gain is unknown. */
  stillImproving: boolean | null;
}

/** The check of every column of one run. */
export interface RunConvergence {
  method: string;
  seed: number;
  columns: ColumnConvergence[];
  /** Some column still improving: true; every column checked and none improving: false; else null. */
  stillImproving: boolean | null;
}

/**
 * One point per cycle of `size` consecutive points, counted back from the last (a leading partial cycle is
 * dropped): at the cycle's last x, with the mean of its values. Size 1 returns the points as they are.
 */
export function cycleMeans(points: BudgetPoint[], size: number): BudgetPoint[] {
  if (size <= 1) return points;
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const out: BudgetPoint[] = [];
  for (let end = sorted.length; end - size >= 0; end -= size) {
    const cycle = sorted.slice(end - size, end);
    out.unshift({ x: cycle[size - 1].x, value: cycle.reduce((a, p) => a + p.value, 0) / size });
  }
  return out;
}

/**
 * The check of one (task, dataset) from a run's logged curves: its validation accuracy against images seen
 * (against epochs when some point lacks images seen). With `evalsPerCycle` above 1 (an alternating
 * schedule, {@link RunResult.evalsPerCycle}) each cycle is first averaged into one point: otherwise the
 * quarters would hold unequal numbers of the highs after the column's own epochs and the lows after the
 * others', and the gain would measure that imbalance.
 */
export function columnConvergence(
  curves: CurvePoint[],
  task: string,
  dataset: string,
  evalsPerCycle = 1,
): ColumnConvergence {
  const metric = `${task}/${dataset}/val/acc`;
  const pts = curves.filter((c) => c.metric === metric && c.value !== null && Number.isFinite(c.value));
  const byImages = pts.length > 0 && pts.every((c) => typeof c.imagesSeen === "number");
  const g = lastQuarterGain(
    cycleMeans(pts.map((c) => ({ x: byImages ? c.imagesSeen! : c.epoch, value: c.value })), evalsPerCycle),
  );
  return {
    task,
    dataset,
    axis: byImages ? "images" : "epoch",
    ...g,
    stillImproving: g.gain === null ? null : g.gain > STILL_IMPROVING,
  };
}

/** Check every (task, dataset) of a run that logged validation accuracy. */
export function runConvergence(run: RunResult): RunConvergence {
  const columns = run.results.map((t) => columnConvergence(run.curves, t.task, t.dataset, run.evalsPerCycle));
  const flags = columns.map((c) => c.stillImproving);
  const stillImproving = flags.some((f) => f === true)
    ? true
    : flags.length > 0 && flags.every((f) => f === false)
    ? false
    : null;
  return { method: run.method, seed: run.seed, columns, stillImproving };
}

/** One method's convergence on one column, over its seeds (the convergence table's cell). */
export interface MethodColumnGain {
  method: string;
  task: string;
  dataset: string;
  /** Mean last-quarter gain over the runs whose gain is known (null when none is). */
  meanGain: number | null;
  /** Runs with this column, runs whose gain is known, and of those the ones above {@link STILL_IMPROVING}. */
  runs: number;
  checked: number;
  improving: number;
}

/**
 * Each method's last-quarter gain on each column, averaged over its seeds: one run may cross the 1 pp line in
 * the epoch-to-epoch noise of a plateaued curve, a mean over seeds above it says the method as a whole was
 * still learning when its budget ended.
 */
export function methodColumnGains(
  convergence: RunConvergence[],
  methods: string[],
  columns: { task: string; dataset: string }[],
): MethodColumnGain[] {
  return methods.flatMap((method) =>
    columns.flatMap(({ task, dataset }) => {
      const cs = convergence.filter((r) => r.method === method).flatMap((r) =>
        r.columns.filter((c) => c.task === task && c.dataset === dataset)
      );
      if (cs.length === 0) return [];
      const known = cs.filter((c) => c.gain !== null);
      return [{
        method,
        task,
        dataset,
        meanGain: known.length ? known.reduce((x, c) => x + c.gain!, 0) / known.length : null,
        runs: cs.length,
        checked: known.length,
        improving: known.filter((c) => c.stillImproving).length,
      }];
    })
  );
}

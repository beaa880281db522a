/**
 * The data shape the `compare` runner hands to the report: one {@link RunResult} per (method, seed)
 * and the {@link CompareResults} around them, with a validator that turns a malformed object into a
 * one-line error naming the field, and helpers that read a run's `log.csv` rows into curve points.
 * @module
 */

/** One logged value of a run: metric names follow `task/dataset/split/metric`. */
export interface CurvePoint {
  /** Outer epoch (0-based, as logged). */
  epoch: number;
  /** `train`, `val` or `test` (the third part of the metric name). */
  split: string;
  /** Full metric name, e.g. `emotion/ferplus/val/acc`. */
  metric: string;
  /** The metric's value. */
  value: number;
  /**
   * Training images the run had processed when this value was logged (the `images_seen` column); compare
   * reports it per dataset (divided by the datasets the run trains on).
   */
  imagesSeen?: number;
}

/** Test metrics of one task on one dataset, for the model chosen on validation. */
export interface TaskResult {
  /** The task. */
  task: string;
  /** The dataset. */
  dataset: string;
  /** Test accuracy in [0, 1]. */
  testAcc: number;
  /** Test mean-class accuracy (mean per-class recall) in [0, 1]. */
  testMeanClassAcc: number;
  /** Validation accuracy of the chosen model, when known. */
  valAcc?: number;
  /**
   * The epoch of the checkpoint these numbers come from, where it differs from the run's: the reference's
   * single-task runs, merged into one result per seed, each chose their own (RunResult.selectedEpoch is then
   * absent).
   */
  selectedEpoch?: number;
  /** Number of labelled test rows (the confusion matrix total when omitted). */
  nTest?: number;
  /** Number of labelled validation rows (the set the checkpoint and the convergence check use). */
  nVal?: number;
  /**
   * Per labelled test row, in split order, `1` when the prediction was right and `0` when wrong (the
   * same predictions as `testAcc`); two runs with the same {@link testRows} pair up row by row.
   */
  testCorrect?: string;
  /** Fingerprint of the test rows behind {@link testCorrect}: `<count>:<hash of the row indices and true classes>`. */
  testRows?: string;
  /** Class names, index = class id. */
  classNames: string[];
  /** Test confusion matrix: rows = true class, columns = predicted class (counts). */
  confusion: number[][];
}

/** Pseudo-label accuracy against the hidden truth at one epoch (synthetic data only). */
export interface PseudoLabelPoint {
  /** The outer epoch. */
  epoch: number;
  /** The task the pseudo labels are for. */
  task: string;
  /** The dataset whose rows got them. */
  dataset: string;
  /** Teacher argmax vs hidden truth over every unlabelled row (`task/dataset/train/pseudo_acc`). */
  acc: number;
  /**
   * Accuracy on the rows the strategy kept, when it marks rows: hard selection's rows above the threshold,
   * soft interpolation's rows with a weight above zero (the others get only the teacher's distilled vector).
   */
  keptAcc?: number;
  /** Accuracy on the other rows, when the strategy marks rows. */
  rejectedAcc?: number;
  /** Share of the rows kept (`task/dataset/train/kept_fraction`), when the strategy marks rows. */
  keptFraction?: number;
}

/** What backend trained the run (a superset-compatible view of runner/backend.ts `BackendInfo`). */
export interface BackendSummary {
  /** Backend name (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  name: string;
  /** The CPU kernel pack registered, if any. */
  kernelPack?: string | null;
  /** Whether WebAssembly SIMD was on. */
  simd?: boolean;
  /** Threads the backend used. */
  threads?: number;
  /** The device (e.g. the GPU adapter), when known. */
  device?: string;
}

/** Everything the report needs from one training run of one method with one seed. */
export interface RunResult {
  /** Method id (the plugin name). */
  method: string;
  /** The seed. */
  seed: number;
  /** Datasets the run trained on. */
  datasets: string[];
  /** Tasks of its heads. */
  tasks: string[];
  /** Per (task, dataset) test metrics. */
  results: TaskResult[];
  /** Per-epoch values read from the run's `log.csv` (see {@link curvesFromLog}). */
  curves: CurvePoint[];
  /** Pseudo-label accuracy per epoch; derived from `curves` when omitted (see {@link pseudoFromCurves}). */
  pseudoLabels?: PseudoLabelPoint[];
  /** Epoch of the checkpoint chosen on validation (absent for merged runs: see TaskResult.selectedEpoch). */
  selectedEpoch?: number;
  /** Training wall time in seconds. */
  trainSeconds: number;
  /** Training images processed (the budget actually spent). */
  imagesSeen: number;
  /**
   * Evaluations per cycle of the run's schedule (absent: 1): an alternating run on two datasets evaluates
   * after each dataset's epoch, so its columns rise and fall with period 2, and the convergence check
   * averages each cycle into one point.
   */
  evalsPerCycle?: number;
  /** The run directory (several, comma-separated, for the merged single-task runs). */
  runDir: string;
  /** The exact command line of this run. */
  command: string;
  /** The backend that trained it. */
  backend: BackendSummary;
  /** Package and runtime versions (`deno`, `@tensorflow/tfjs-core`, ...). */
  versions: Record<string, string>;
}

/** Host description. */
export interface MachineInfo {
  /** Operating system. */
  os: string;
  /** CPU architecture. */
  arch: string;
  /** Logical CPU count. */
  cpus: number;
  /** CPU model name. */
  cpuModel?: string;
  /** Memory in GiB. */
  memoryGiB?: number;
  /** Host name. */
  hostname?: string;
}

/** One STL teacher scored on another dataset's hidden truth: the pseudo labels a teacher-based method gets. */
export interface TeacherTransfer {
  /** The task. */
  task: string;
  /** The dataset whose rows get pseudo labels (not labelled for the task). */
  dataset: string;
  /** The dataset the teacher trained on. */
  teacherDataset: string;
  /** The training seed of the teacher. */
  seed: number;
  /** Accuracy on `dataset`'s test rows against their hidden truth. */
  teacherAcc: number;
  /** The teacher's own test accuracy on `teacherDataset`. */
  teacherAccInDomain: number;
}

/** A planned run that failed. */
export interface FailedRunInfo {
  /** The method (a plugin or variant name). */
  method: string;
  /** The training seed. */
  seed: number;
  /** STL: the task. */
  task?: string;
  /** The run directory (holds `error.txt`). */
  dir: string;
  /** The last lines of its error output. */
  error: string;
}

/** Everything one `compare` invocation produced. */
export interface CompareResults {
  /** Profile name (e.g. `smoke`, `paper`). */
  profile: string;
  /** The exact `compare` command line. */
  command: string;
  /** Datasets of the comparison. */
  datasets: string[];
  /** Backbone of every run. */
  model: string;
  /** The training budget (epochs, images per epoch, batch size, ...). */
  budget: Record<string, number | string | boolean>;
  /** The seeds every method ran with. */
  seeds: number[];
  /** Seed of the data (embedded rows and splits), the same for every training seed; absent: data followed the seed. */
  dataSeed?: number;
  /** Each STL teacher on the other datasets' hidden truth (embedded datasets only), per seed. */
  teachers?: TeacherTransfer[];
  /** Runs that failed; the report is written from the others. */
  failedRuns?: FailedRunInfo[];
  /** Every run, one per (method, seed). */
  runs: RunResult[];
  /** The machine it ran on. */
  machine: MachineInfo;
  /** Wall time of the whole comparison in seconds. */
  wallSeconds: number;
  /** When the comparison started (its first sitting, when resumed): ISO timestamp, when known. */
  startedAt?: string;
  /** When its last run finished (ISO timestamp), when known. */
  finishedAt?: string;
  /**
   * Sittings that finished runs: each `--resume` starts one, and `wallSeconds` sums them (each from its start
   * to its last finished run); absent: one, or not known.
   */
  sittings?: number;
  /** Reference method for differences and delta-m (the plugin whose role is `reference`); none when absent. */
  baseline?: string;
  /** The proposed method whose claim the verdict checks (the plugin whose role is `proposed`). */
  proposed?: string;
  /** An interim report (`--report_only --interim`): only the seeds whose runs had all finished. */
  interim?: InterimInfo;
  /** First heading of report.md (default "SA-MTL comparison report"). */
  title?: string;
  /** Text shown under the title (e.g. that the numbers are an example). */
  notice?: string;
}

/** What an interim report leaves out: the comparison's planned seeds and how many of its runs had finished. */
export interface InterimInfo {
  /** Every seed the comparison plans (the report's `seeds` are those whose runs had all finished). */
  plannedSeeds: number[];
  /** Runs of the comparison that had finished (of every seed). */
  finishedRuns: number;
  /** Runs the comparison plans. */
  plannedRuns: number;
}

/** Error for a malformed results object; the message names the field path. */
export class ResultsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResultsError";
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(path: string, msg: string): never {
  throw new ResultsError(`${path}: ${msg}`);
}

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) fail(path, `expected an object, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "string" ? `"${v.slice(0, 40)}"` : typeof v;
}

function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string") fail(`${path}.${key}`, `expected a string, got ${describe(v)}`);
  return v;
}

function num(
  o: Obj,
  key: string,
  path: string,
  opts: { min?: number; max?: number; int?: boolean } = {},
): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    fail(`${path}.${key}`, `expected a finite number, got ${describe(v)}`);
  }
  if (opts.int && !Number.isInteger(v)) fail(`${path}.${key}`, `expected an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) fail(`${path}.${key}`, `${v} is below ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) fail(`${path}.${key}`, `${v} is above ${opts.max}`);
  return v;
}

function optNum(o: Obj, key: string, path: string, opts: { min?: number; max?: number } = {}): void {
  if (o[key] !== undefined && o[key] !== null) num(o, key, path, opts);
}

function arr(o: Obj, key: string, path: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) fail(`${path}.${key}`, `expected an array, got ${describe(v)}`);
  return v;
}

function strArr(o: Obj, key: string, path: string): string[] {
  const a = arr(o, key, path);
  a.forEach((x, i) => {
    if (typeof x !== "string") fail(`${path}.${key}[${i}]`, `expected a string, got ${describe(x)}`);
  });
  return a as string[];
}

function checkTaskResult(v: unknown, path: string): void {
  const o = obj(v, path);
  str(o, "task", path);
  str(o, "dataset", path);
  num(o, "testAcc", path, { min: 0, max: 1 });
  num(o, "testMeanClassAcc", path, { min: 0, max: 1 });
  optNum(o, "valAcc", path, { min: 0, max: 1 });
  optNum(o, "selectedEpoch", path);
  optNum(o, "nTest", path, { min: 0 });
  optNum(o, "nVal", path, { min: 0 });
  const names = strArr(o, "classNames", path);
  const m = arr(o, "confusion", path);
  if (m.length !== names.length) {
    fail(`${path}.confusion`, `has ${m.length} rows but classNames has ${names.length} entries`);
  }
  m.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== names.length) {
      fail(`${path}.confusion[${i}]`, `expected ${names.length} counts, got ${describe(row)}`);
    }
    row.forEach((c, j) => {
      if (typeof c !== "number" || !Number.isFinite(c) || c < 0) {
        fail(`${path}.confusion[${i}][${j}]`, `expected a count >= 0, got ${describe(c)}`);
      }
    });
  });
  // The accuracy and the matrix come from the same predictions; a mismatch means a runner bug.
  const counts = m as number[][];
  const total = counts.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
  if (total > 0) {
    const trace = counts.reduce((a, row, i) => a + row[i], 0);
    if (Math.abs(trace / total - (o.testAcc as number)) > 1e-6) {
      fail(
        `${path}.testAcc`,
        `${o.testAcc} disagrees with the confusion matrix (${trace}/${total} = ${trace / total})`,
      );
    }
  }
  if (o.testCorrect !== undefined) {
    const c = o.testCorrect;
    if (typeof c !== "string" || !/^[01]*$/.test(c)) {
      fail(`${path}.testCorrect`, `expected a string of 0 and 1, got ${describe(c)}`);
    }
    if (c.length !== total) {
      fail(`${path}.testCorrect`, `has ${c.length} rows but the confusion matrix counts ${total}`);
    }
    let hits = 0;
    for (let i = 0; i < c.length; i++) if (c.charCodeAt(i) === 49) hits++;
    if (c.length > 0 && Math.abs(hits / c.length - (o.testAcc as number)) > 1e-6) {
      fail(`${path}.testCorrect`, `${hits}/${c.length} correct disagrees with testAcc ${o.testAcc}`);
    }
    if (typeof o.testRows !== "string" || !o.testRows.startsWith(`${c.length}:`)) {
      fail(
        `${path}.testRows`,
        `expected "${c.length}:<hash>" beside testCorrect, got ${describe(o.testRows)}`,
      );
    }
  }
}

function checkRun(v: unknown, path: string): void {
  const o = obj(v, path);
  str(o, "method", path);
  num(o, "seed", path, { int: true });
  strArr(o, "datasets", path);
  strArr(o, "tasks", path);
  const results = arr(o, "results", path);
  results.forEach((r, i) => checkTaskResult(r, `${path}.results[${i}]`));
  arr(o, "curves", path).forEach((c, i) => {
    const p = `${path}.curves[${i}]`;
    const co = obj(c, p);
    num(co, "epoch", p);
    str(co, "split", p);
    str(co, "metric", p);
    optNum(co, "imagesSeen", p, { min: 0 });
    // NaN is legal in a log (no labelled rows); JSON turns it into null.
    if (co.value !== null && typeof co.value !== "number") {
      fail(`${p}.value`, `expected a number, got ${describe(co.value)}`);
    }
  });
  if (o.pseudoLabels !== undefined) {
    arr(o, "pseudoLabels", path).forEach((c, i) => {
      const p = `${path}.pseudoLabels[${i}]`;
      const co = obj(c, p);
      num(co, "epoch", p);
      str(co, "task", p);
      str(co, "dataset", p);
      if (co.acc !== null) num(co, "acc", p, { min: 0, max: 1 });
    });
  }
  optNum(o, "selectedEpoch", path);
  num(o, "trainSeconds", path, { min: 0 });
  num(o, "imagesSeen", path, { min: 0 });
  str(o, "runDir", path);
  str(o, "command", path);
  str(obj(o.backend, `${path}.backend`), "name", `${path}.backend`);
  const ver = obj(o.versions, `${path}.versions`);
  for (const [k, x] of Object.entries(ver)) {
    if (typeof x !== "string") fail(`${path}.versions.${k}`, `expected a string, got ${describe(x)}`);
  }
}

/**
 * Check that `value` has the {@link CompareResults} shape (and each run and task result is
 * consistent) and return it typed. Throws {@link ResultsError} naming the first bad field.
 */
export function validateCompareResults(value: unknown, label = "results"): CompareResults {
  const o = obj(value, label);
  str(o, "profile", label);
  str(o, "command", label);
  strArr(o, "datasets", label);
  str(o, "model", label);
  obj(o.budget, `${label}.budget`);
  arr(o, "seeds", label).forEach((s, i) => {
    if (typeof s !== "number" || !Number.isInteger(s)) {
      fail(`${label}.seeds[${i}]`, `expected an integer seed`);
    }
  });
  const runs = arr(o, "runs", label);
  if (runs.length === 0) fail(`${label}.runs`, "is empty: there is nothing to report");
  runs.forEach((r, i) => checkRun(r, `${label}.runs[${i}]`));
  const m = obj(o.machine, `${label}.machine`);
  str(m, "os", `${label}.machine`);
  str(m, "arch", `${label}.machine`);
  num(m, "cpus", `${label}.machine`, { min: 0 });
  num(o, "wallSeconds", label, { min: 0 });
  if (o.sittings !== undefined) num(o, "sittings", label, { min: 1, int: true });
  if (o.interim !== undefined) {
    const it = obj(o.interim, `${label}.interim`);
    arr(it, "plannedSeeds", `${label}.interim`);
    num(it, "finishedRuns", `${label}.interim`, { min: 0, int: true });
    num(it, "plannedRuns", `${label}.interim`, { min: 0, int: true });
  }
  for (const k of ["baseline", "proposed", "startedAt", "finishedAt", "title", "notice"]) {
    if (o[k] !== undefined && typeof o[k] !== "string") {
      fail(`${label}.${k}`, `expected a string, got ${describe(o[k])}`);
    }
  }
  const seen = new Set<string>();
  (runs as RunResult[]).forEach((r, i) => {
    for (const t of r.results) {
      const key = `${r.method}|${r.seed}|${t.task}|${t.dataset}`;
      if (seen.has(key)) {
        fail(`${label}.runs[${i}]`, `${t.task}/${t.dataset} of ${r.method} seed ${r.seed} is reported twice`);
      }
      seen.add(key);
    }
  });
  return value as unknown as CompareResults;
}

/**
 * Turn the rows of a run's `log.csv` (one row per epoch, columns `task/dataset/split/metric`) into
 * {@link CurvePoint}s, each with the row's `images_seen` when logged. Columns that are not four-part
 * metric names (e.g. `epoch`, `seconds`) are skipped; empty and non-numeric cells are skipped too.
 */
export function curvesFromLog(rows: Record<string, number | string>[]): CurvePoint[] {
  const out: CurvePoint[] = [];
  rows.forEach((row, i) => {
    const epoch = Number(row.epoch ?? i);
    if (!Number.isFinite(epoch)) {
      throw new ResultsError(`log row ${i + 1}: epoch "${row.epoch}" is not a number`);
    }
    const seen = row.images_seen === undefined || row.images_seen === "" ? NaN : Number(row.images_seen);
    for (const [metric, raw] of Object.entries(row)) {
      const parts = metric.split("/");
      if (parts.length !== 4 || raw === "") continue;
      const value = typeof raw === "number" ? raw : Number(raw);
      if (Number.isNaN(value) && raw !== "NaN") continue;
      out.push(
        Number.isFinite(seen) ? { epoch, split: parts[2], metric, value, imagesSeen: seen } : {
          epoch,
          split: parts[2],
          metric,
          value,
        },
      );
    }
  });
  return out;
}

const PSEUDO_KINDS: Record<string, "acc" | "keptAcc" | "rejectedAcc" | "keptFraction"> = {
  pseudo_acc: "acc",
  pseudo_acc_kept: "keptAcc",
  pseudo_kept_acc: "keptAcc",
  pseudo_acc_rejected: "rejectedAcc",
  pseudo_rejected_acc: "rejectedAcc",
  kept_fraction: "keptFraction",
};

/**
 * Collect pseudo-label accuracies from curve points named `task/dataset/<split>/pseudo_acc` (plus
 * `pseudo_acc_kept` / `pseudo_acc_rejected` / `kept_fraction`). Returns an empty list for methods without
 * pseudo labels.
 */
export function pseudoFromCurves(curves: CurvePoint[]): PseudoLabelPoint[] {
  const byKey = new Map<string, PseudoLabelPoint>();
  for (const c of curves) {
    const [task, dataset, , name] = c.metric.split("/");
    const kind = PSEUDO_KINDS[name];
    if (!kind || dataset === undefined || !Number.isFinite(c.value)) continue;
    const key = `${task}|${dataset}|${c.epoch}`;
    let p = byKey.get(key);
    if (!p) {
      p = { epoch: c.epoch, task, dataset, acc: NaN };
      byKey.set(key, p);
    }
    p[kind] = c.value;
  }
  return [...byKey.values()].filter((p) => Number.isFinite(p.acc)).sort((a, b) =>
    a.task.localeCompare(b.task) || a.dataset.localeCompare(b.dataset) || a.epoch - b.epoch
  );
}

/** The pseudo-label points of a run: the explicit list, or those derived from its curves. */
export function runPseudoLabels(run: RunResult): PseudoLabelPoint[] {
  return run.pseudoLabels && run.pseudoLabels.length > 0 ? run.pseudoLabels : pseudoFromCurves(run.curves);
}

/** Describe this host for {@link CompareResults.machine}. */
export function machineInfo(): MachineInfo {
  const os = (() => {
    try {
      return `${Deno.build.os} ${Deno.osRelease()}`;
    } catch {
      return Deno.build.os;
    }
  })();
  let memoryGiB: number | undefined;
  try {
    memoryGiB = Math.round((Deno.systemMemoryInfo().total / 2 ** 30) * 10) / 10;
  } catch { /* not permitted: leave it out */ }
  let cpuModel: string | undefined;
  try {
    const m = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m);
    if (m) cpuModel = m[1].trim();
  } catch { /* not Linux, or not permitted */ }
  return { os, arch: Deno.build.arch, cpus: navigator.hardwareConcurrency ?? 1, cpuModel, memoryGiB };
}

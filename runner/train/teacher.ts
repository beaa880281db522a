/**
 * Teacher targets: once per refresh, the model as it stands (a frozen snapshot: every target is
 * computed before any weight changes, docs/original.md B9) predicts the missing task of every training row, and
 * the method's label strategy turns that into targets. On synthetic data the targets are scored
 * against the hidden truth, which the strategy never sees.
 * @module
 */
import type { LabelStrategy, StrategyContext, TargetSet, TeacherView } from "../../core/plugin.ts";
import type { HiddenTruth, ImageSet, MultiTaskModel, TaskName, TaskSpec } from "../../core/types.ts";
import { predictRows, type RowPredictions } from "../../core/infer.ts";
import { argmaxRows } from "../../core/metrics.ts";

/** Targets for one (dataset, task) pair, indexed by dataset row id (n_rows * C). */
export interface TeacherTargets {
  dataset: string;
  task: TaskName;
  classes: number;
  targets: Float32Array;
  /** Per dataset row, the student temperature of its target (absent: 1 everywhere; see `TargetSet`). */
  temperature?: Float32Array;
  /** Scalar statistics (strategy stats + pseudo-label accuracy vs hidden truth). */
  stats: Record<string, number>;
}

/** Options of {@link buildTeacherTargets}. */
export interface TeacherOptions {
  model: MultiTaskModel;
  strategy: LabelStrategy;
  ctx: StrategyContext;
  /** Datasets whose training rows need targets (the active ones this epoch). */
  targetsFor: ImageSet[];
  /** Every dataset of the run (labelled sets come from here). */
  all: ImageSet[];
  /** Training rows actually used per dataset (budget), by dataset name. */
  trainRows: Map<string, Int32Array>;
  hidden: Map<string, HiddenTruth | null>;
  batchSize: number;
}

function labelsTask(set: ImageSet, task: TaskName): boolean {
  return set.tasks.some((t) => t.name === task);
}

/** Build every missing-task target for the given datasets. */
export async function buildTeacherTargets(opts: TeacherOptions): Promise<TeacherTargets[]> {
  const { model, strategy } = opts;
  if (!strategy.build) return [];
  const cache = new Map<string, RowPredictions>();
  const predict = async (set: ImageSet): Promise<RowPredictions> => {
    let p = cache.get(set.name);
    if (!p) {
      p = await predictRows(model, set, {
        rows: opts.trainRows.get(set.name)!,
        batchSize: opts.batchSize,
        extra: true,
      });
      cache.set(set.name, p);
    }
    return p;
  };
  const out: TeacherTargets[] = [];
  for (const set of opts.targetsFor) {
    const rows = opts.trainRows.get(set.name)!;
    for (const task of model.tasks) {
      if (labelsTask(set, task.name)) continue;
      const pred = await predict(set);
      const view = await teacherView({ task, set, rows, pred, opts, predict });
      const ts: TargetSet = await strategy.build(view, opts.ctx);
      const full = new Float32Array(set.n * task.classes);
      for (let i = 0; i < rows.length; i++) {
        full.set(ts.targets.subarray(i * task.classes, (i + 1) * task.classes), rows[i] * task.classes);
      }
      let temperature: Float32Array | undefined;
      if (ts.temperature) {
        if (ts.temperature.length !== rows.length) {
          throw new Error(`${strategy.name}: ${ts.temperature.length} temperatures for ${rows.length} rows`);
        }
        temperature = new Float32Array(set.n).fill(1);
        for (let i = 0; i < rows.length; i++) temperature[rows[i]] = ts.temperature[i];
      }
      const stats: Record<string, number> = { ...(ts.stats ?? {}) };
      scoreAgainstTruth({ stats, ts, view, rows, truth: opts.hidden.get(set.name)?.labels[task.name] });
      out.push({
        dataset: set.name,
        task: task.name,
        classes: task.classes,
        targets: full,
        temperature,
        stats,
      });
    }
  }
  return out;
}

async function teacherView(args: {
  task: TaskSpec;
  set: ImageSet;
  rows: Int32Array;
  pred: RowPredictions;
  opts: TeacherOptions;
  predict: (s: ImageSet) => Promise<RowPredictions>;
}): Promise<TeacherView> {
  const { task, set, rows, pred, opts } = args;
  const d = pred.featureDim[task.name] ?? 0;
  // The task's own labelled training rows, seen by the same teacher.
  const lf: Float32Array[] = [];
  const ll: Int32Array[] = [];
  const lp: Float32Array[] = [];
  const lo: Partial<Record<TaskName, Float32Array[]>> = {};
  let ln = 0;
  const wantLabelled = opts.strategy.needsLabelled?.(opts.ctx.options) ?? true;
  for (const other of opts.all) {
    if (!wantLabelled || !labelsTask(other, task.name)) continue;
    const p = await args.predict(other);
    const orows = opts.trainRows.get(other.name)!;
    const lab = other.labels[task.name]!;
    const labels = new Int32Array(orows.length);
    for (let i = 0; i < orows.length; i++) labels[i] = lab[orows[i]];
    lf.push(p.features[task.name] ?? new Float32Array(0));
    ll.push(labels);
    lp.push(p.probs[task.name]!);
    for (const t of opts.model.tasks) {
      if (t.name !== task.name) (lo[t.name] ??= []).push(p.probs[t.name]!);
    }
    ln += orows.length;
  }
  // The other datasets' training rows that miss the task too (a graph over every dataset, e.g. DCN-AP's).
  let peers: TeacherView["peers"];
  if (opts.strategy.needsPeers?.(opts.ctx.options)) {
    const pf: Float32Array[] = [];
    const pp: Float32Array[] = [];
    let pn = 0;
    for (const other of opts.all) {
      if (other === set || labelsTask(other, task.name)) continue;
      const p = await args.predict(other);
      pf.push(p.features[task.name] ?? new Float32Array(0));
      pp.push(p.probs[task.name]!);
      pn += opts.trainRows.get(other.name)!.length;
    }
    peers = { n: pn, features: concatF(pf), probs: concatF(pp) };
  }
  const otherProbs: Partial<Record<TaskName, Float32Array>> = {};
  const otherLabels: Partial<Record<TaskName, Int32Array>> = {};
  for (const t of opts.model.tasks) {
    if (t.name === task.name) continue;
    otherProbs[t.name] = pred.probs[t.name];
    const lab = set.labels[t.name];
    if (lab) {
      const a = new Int32Array(rows.length);
      for (let i = 0; i < rows.length; i++) a[i] = lab[rows[i]];
      otherLabels[t.name] = a;
    }
  }
  return {
    task,
    n: rows.length,
    logits: pred.logits[task.name]!,
    probs: pred.probs[task.name]!,
    features: pred.features[task.name] ?? new Float32Array(0),
    d,
    labelled: {
      n: ln,
      features: concatF(lf),
      labels: concatI(ll),
      probs: concatF(lp),
      otherProbs: Object.fromEntries(Object.entries(lo).map(([k, v]) => [k, concatF(v!)])),
    },
    ...(peers ? { peers } : {}),
    ...(pred.extra ? { extra: pred.extra } : {}),
    otherProbs,
    otherLabels,
  };
}

/** Score a target set against the hidden truth (rows of unknown truth, -1, are left out). */
export function scoreAgainstTruth(args: {
  stats: Record<string, number>;
  ts: TargetSet;
  view: TeacherView;
  rows: Int32Array;
  truth?: Int32Array;
}): void {
  const { stats, ts, view, rows, truth } = args;
  const C = view.task.classes;
  let targeted = 0;
  for (let i = 0; i < view.n; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += ts.targets[i * C + c];
    if (s > 0) targeted++;
  }
  stats.targeted_fraction = view.n ? targeted / view.n : 0;
  if (!truth) return;
  const teacherArg = argmaxRows(view.probs, C);
  const targetArg = argmaxRows(ts.targets, C);
  let all = 0, known = 0, tHit = 0, tN = 0, kHit = 0, kN = 0, rHit = 0, rN = 0;
  for (let i = 0; i < view.n; i++) {
    const y = truth[rows[i]];
    // Rows whose truth is unknown (-1) are neither hits nor misses: accuracy is over the known rows.
    if (y < 0) continue;
    known++;
    if (teacherArg[i] === y) all++;
    let s = 0;
    for (let c = 0; c < C; c++) s += ts.targets[i * C + c];
    if (s > 0) {
      tN++;
      if (targetArg[i] === y) tHit++;
    }
    if (ts.kept) {
      if (ts.kept[i]) {
        kN++;
        if (teacherArg[i] === y) kHit++;
      } else {
        rN++;
        if (teacherArg[i] === y) rHit++;
      }
    }
  }
  stats.pseudo_acc = known ? all / known : NaN;
  stats.target_acc = tN ? tHit / tN : NaN;
  if (ts.kept) {
    stats.pseudo_acc_kept = kN ? kHit / kN : NaN;
    stats.pseudo_acc_rejected = rN ? rHit / rN : NaN;
  }
}

function concatArrays<T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concatF(parts: Float32Array[]): Float32Array {
  return concatArrays(parts, (n) => new Float32Array(n));
}

function concatI(parts: Int32Array[]): Int32Array {
  return concatArrays(parts, (n) => new Int32Array(n));
}

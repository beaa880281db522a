/**
 * The training loop every method plugin runs on. Per outer epoch: the hooks' `epochStart` (freezing),
 * the schedule's active datasets, the teacher targets when the schedule refreshes them and the label
 * strategy needs them, masked-loss steps, evaluation on the held-out splits and model selection, then
 * the hooks' `epochEnd` (log, LR plateau and early stopping, checkpoints; see `hooks.ts`).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import type { MethodPlugin } from "../../core/plugin.ts";
import { bool, num, type Options } from "../../core/options.ts";
import { Rng } from "../../core/rng.ts";
import type { HiddenTruth, ImageSet, MultiTaskModel, TaskName } from "../../core/types.ts";
import { writeJsonAtomic } from "../../core/fs.ts";
import { type LogRow, RunLog } from "./run_log.ts";
import {
  adam,
  checkpointHook,
  freezingHook,
  logHook,
  type LoopState,
  optimizerLr,
  plateauHook,
  setOptimizerLr,
  type TrainerHook,
  trainState,
} from "./hooks.ts";
import { Progress } from "./progress.ts";
import { trainStep } from "./step.ts";
import { evalColumns, evaluate, selectionScore } from "./evaluate.ts";
import { buildTeacherTargets, type TeacherTargets } from "./teacher.ts";
import type { StepResult } from "./step.ts";
import type { Batch, DataSource, PseudoTargets } from "../../core/batches.ts";
import { scheduleOf } from "../registry.ts";
import { scheduleCycle } from "../../datasets/schedules.ts";
import { findWeighting, type TaskWeighting, weightingName } from "../../core/task_weighting/mod.ts";
import type { CheckpointIO, TrainState } from "./checkpoint_io.ts";
import { lrFactor, type LrScheduleName, type LrScheduleOptions } from "./lr_schedule.ts";

/** Per-epoch sums of the step losses: per head, per plugin loss term (raw, before its coefficient), total. */
class StepSums {
  #steps = 0;
  #total = 0;
  #heads: Record<string, number> = {};
  #terms: Record<string, number> = {};
  /** Task weighting: sum and count of each task's weight over the steps where it was present. */
  #weights: Record<string, [number, number]> = {};

  /** Continue the sums a mid-epoch checkpoint saved (see {@link saved}). */
  constructor(from?: { lossSums?: Record<string, number>; lossSteps?: number }) {
    if (!from?.lossSums) return;
    this.#steps = from.lossSteps ?? 0;
    for (const [k, v] of Object.entries(from.lossSums)) {
      if (k === "total") this.#total = v;
      else if (k.startsWith("head:")) this.#heads[k.slice(5)] = v;
      else if (k.startsWith("term:")) this.#terms[k.slice(5)] = v;
    }
  }

  /** The sums as a checkpoint stores them. */
  saved(): { lossSums: Record<string, number>; lossSteps: number } {
    const lossSums: Record<string, number> = { total: this.#total };
    for (const [k, v] of Object.entries(this.#heads)) lossSums[`head:${k}`] = v;
    for (const [k, v] of Object.entries(this.#terms)) lossSums[`term:${k}`] = v;
    return { lossSums, lossSteps: this.#steps };
  }

  add(res: StepResult): void {
    this.#steps++;
    this.#total += res.total;
    for (const [k, v] of Object.entries(res.heads)) this.#heads[k] = (this.#heads[k] ?? 0) + v;
    for (const [k, v] of Object.entries(res.terms)) this.#terms[k] = (this.#terms[k] ?? 0) + v;
    for (const [k, v] of Object.entries(res.weights ?? {})) {
      const a = (this.#weights[k] ??= [0, 0]);
      a[0] += v;
      a[1]++;
    }
  }

  /** Epoch means as log columns (NaN when every step was skipped). */
  columns(): LogRow {
    const mean = (v: number) => (this.#steps ? v / this.#steps : NaN);
    const row: LogRow = {};
    for (const [k, v] of Object.entries(this.#heads)) row[`${k}/all/train/loss`] = mean(v);
    row["all/all/train/loss"] = mean(this.#total);
    for (const [k, v] of Object.entries(this.#terms)) row[`all/all/train/${k}`] = mean(v);
    for (const [k, [sum, n]] of Object.entries(this.#weights)) row[`${k}/all/train/task_weight`] = sum / n;
    return row;
  }
}

/** Everything a training run needs, already validated. */
export interface TrainSpec {
  plugin: MethodPlugin;
  options: Options;
  sets: ImageSet[];
  hidden: Map<string, HiddenTruth | null>;
  model: MultiTaskModel;
  outDir: string;
  checkpoints: CheckpointIO;
  /** Restore from this state (resume). */
  resumeState?: TrainState;
  /** Set to true (e.g. by SIGINT) to stop after the current step with a checkpoint. */
  stop?: { requested: boolean };
  /** Re-estimate BatchNorm moving statistics before evaluation. */
  recalibrate?: (model: MultiTaskModel, x: tf.Tensor4D) => void;
  log: (line: string) => void;
  /** Called after each outer epoch's log row is written (tests use it to watch tensor counts). */
  onEpochEnd?: (epoch: number, row: Record<string, number | string>) => void;
}

/** Final numbers of a run (also written to summary.json). */
export interface TrainSummary {
  /** The method (a plugin name). */
  method: string;
  /** Outer epochs trained. */
  epochs: number;
  /** The epoch (1-based) whose validation score was best; its checkpoint is `checkpoint/best`. */
  bestEpoch: number;
  /** Mean validation accuracy over the tasks at the best epoch. */
  bestValAcc: number;
  /** Test metrics at the best validation epoch, `task/dataset/test/metric`. */
  test: Record<string, number>;
  /** Validation metrics at the best epoch. */
  val: Record<string, number>;
  /** Training wall time in seconds. */
  trainSeconds: number;
  /** Training images processed. */
  imagesSeen: number;
  /** Batches skipped for a non-finite loss (`nan_policy: "skip"`). */
  skippedBatches: number;
  /** Whether a signal stopped the run early (its last checkpoint can be resumed). */
  interrupted: boolean;
  /** Pseudo-label statistics of the last epoch (accuracy against the hidden truth, ...). */
  pseudo: Record<string, number>;
  /** Labelled rows per held-out `task/dataset/split` (what each accuracy is a fraction of). */
  evalRows: Record<string, number>;
  /**
   * Evaluations per cycle of the run's schedule on its datasets (`scheduleCycle`): one per dataset when it
   * alternates, else 1. Recorded so that a report reads each column's sawtooth period off the run itself,
   * for any plugin's schedule, rather than guessing it from the method's name.
   */
  evalsPerCycle: number;
  /**
   * When the run finished (ISO time), kept in the file rather than read off its modification time, which a
   * copy or a git checkout of the run resets (a comparison sums its sittings' wall time from these).
   */
  finishedAt?: string;
}

const LOSS_FLAG: Record<TaskName, string> = {
  emotion: "E_loss_weights",
  pose: "P_loss_weights",
  age: "A_loss_weights",
  gender: "G_loss_weights",
  digit: "E_loss_weights",
  rotation: "P_loss_weights",
};

/** Loss weight per head from the seed's `--*_loss_weights` flags. */
export function lossWeights(o: Options, tasks: TaskName[]): Partial<Record<TaskName, number>> {
  const w: Partial<Record<TaskName, number>> = {};
  for (const t of tasks) w[t] = typeof o[LOSS_FLAG[t]] === "number" ? o[LOSS_FLAG[t]] as number : 1;
  return w;
}

/**
 * Training rows per dataset after the `--max_train_rows` budget: a stable subset seeded by the data seed
 * (`--data_seed`, else `--seed`), since which rows a run may train on is part of its data, not of its training
 * randomness.
 */
export function budgetRows(sets: ImageSet[], o: Options): Map<string, Int32Array> {
  const max = typeof o.max_train_rows === "number" ? o.max_train_rows : Infinity;
  const dataSeed = typeof o.data_seed === "number" ? o.data_seed : o.seed;
  const m = new Map<string, Int32Array>();
  for (const s of sets) {
    let rows = s.split.train;
    if (rows.length > max) {
      const perm = new Rng(`${dataSeed}:budget:${s.name}`).permutation(rows.length).subarray(0, max);
      rows = Int32Array.from(perm, (i) => rows[i]).sort();
    }
    m.set(s.name, rows);
  }
  return m;
}

/** Run the schedule. */
export async function runTraining(spec: TrainSpec): Promise<TrainSummary> {
  const { plugin, options: o, sets, model } = spec;
  const seed = num(o, "seed");
  const epochs = num(o, "epoch");
  const passes = plugin.passesPerRefresh?.(o) ?? 1;
  const taskNames = model.tasks.map((t) => t.name);
  const weights = lossWeights(o, taskNames);
  const trainRows = budgetRows(sets, o);
  const freezeUntil = bool(o, "is_freezing") ? num(o, "no_freezing_epoch") : 0;
  const baseLr = num(o, "lr");

  const sources: DataSource[] = sets.map((s) => ({ set: s, rows: trainRows.get(s.name)! }));
  const schedule = scheduleOf(plugin);
  const gen = schedule.generator(sources, {
    heads: model.tasks,
    batchSize: num(o, "batch_size"),
    seed,
    order: o.shuffle === "batches" ? "fixed" : "shuffle",
    augment: bool(o, "is_augmentation"),
  });
  const weighting = (await findWeighting(weightingName(o))).create({
    tasks: taskNames,
    options: o,
    rng: new Rng(`${seed}:task_weighting`),
  });
  const runLog = new RunLog(spec.outDir, evalColumnNames(spec));
  const initialLr = freezeUntil > 0 ? 1e-3 : baseLr;
  const st: LoopState = {
    model,
    epochs,
    optimizer: adam(initialLr),
    lr: initialLr,
    best: { epoch: 0, valAcc: -Infinity, row: {} },
    sinceImprove: 0,
    bestValLoss: Infinity,
    imagesSeen: 0,
    skipped: 0,
    trainSeconds: 0,
    targets: [],
    log: spec.log,
  };
  const hooks: TrainerHook[] = [
    freezingHook({ until: freezeUntil, lr: baseLr }),
    logHook({ runLog, outDir: spec.outDir, quiet: bool(o, "quiet"), onEpochEnd: spec.onEpochEnd }),
    plateauHook({
      patience: typeof o.patience === "number" ? o.patience : Infinity,
      reduceLr: bool(o, "reduce_lr"),
      earlyStopping: bool(o, "early_stopping"),
    }),
    checkpointHook(spec.checkpoints),
  ];
  model.setTrunkTrainable(freezeUntil === 0);

  let start = 0;
  let startBatch = 0;
  if (spec.resumeState) {
    const r = spec.resumeState;
    start = r.epoch;
    startBatch = r.batch;
    Object.assign(st, {
      best: r.best,
      imagesSeen: r.imagesSeen,
      skipped: r.skipped,
      trainSeconds: r.trainSeconds,
      lr: r.lr,
      sinceImprove: r.sinceImprove,
      bestValLoss: r.bestValLoss,
      targets: r.targets ?? [],
    });
    if (r.taskWeighting !== undefined) weighting.restore(r.taskWeighting);
    st.optimizer.dispose();
    st.optimizer = adam(st.lr);
    await spec.checkpoints.restoreOptimizer(st.optimizer);
    model.setTrunkTrainable(start >= freezeUntil);
    const dropped = await runLog.truncateAfter(start);
    if (dropped > 0) spec.log(`resume: dropped ${dropped} log row(s) written after the checkpoint`);
  } else {
    await runLog.init();
  }

  // The LR schedule runs over every step of the run (all outer epochs and passes), so a step's LR depends
  // only on its place in the run: resuming continues the curve.
  const scheduleName = (o.lr_schedule ?? "constant") as LrScheduleName;
  const warmup = typeof o.lr_warmup === "number" ? o.lr_warmup : 0;
  const scheduled = scheduleName !== "constant" || warmup > 0;
  // Steps before each (epoch, pass) slot; only a schedule needs them.
  const stepsBefore: number[] = [0];
  for (let e = 0; scheduled && e < epochs * passes; e++) stepsBefore.push(stepsBefore[e] + gen.steps(e));
  const lrSchedule: LrScheduleOptions = { name: scheduleName, warmup, totalSteps: stepsBefore.at(-1)! };

  let interrupted = false;
  // The last outer epoch (1-based) whose weights the model holds.
  let lastEpoch = start;
  // Labelled rows scored per `task/dataset/split`, as the summary reports them.
  const evalRows: Record<string, number> = {};
  const scoreSplit = async (split: "val" | "test") => {
    const entries = await evaluate(model, { sets, splits: [split], batchSize: num(o, "eval_batch_size") });
    for (const e of entries) evalRows[`${e.task}/${e.dataset}/${e.split}`] = e.n;
    return entries;
  };
  for (let t = start; t < epochs; t++) {
    for (const h of hooks) await h.epochStart?.(st, t);
    const epochStart = performance.now();
    const active = schedule.active(sets, t);
    const resumingMidEpoch = t === start && startBatch > 0;
    if (plugin.labels.needsTeacher && !resumingMidEpoch && schedule.refreshAt(t)) {
      st.targets = await buildTeacherTargets({
        model,
        strategy: plugin.labels,
        ctx: { options: o, rng: new Rng(`${seed}:labels:${t}`), compat: bool(o, "compat") },
        targetsFor: active,
        all: sets,
        trainRows,
        hidden: spec.hidden,
        batchSize: num(o, "eval_batch_size"),
      });
    } else if (!plugin.labels.needsTeacher) {
      st.targets = [];
    }
    const temperatures = rowTemperatures(st.targets);
    const pseudo = sources.map((src) => {
      const p: PseudoTargets = {};
      for (const tt of st.targets) if (tt.dataset === src.set.name) p[tt.task] = tt.targets;
      return p;
    });
    // Epochs are 1-based in every output (log.csv, summary.json, file names, console).
    const row: LogRow = { epoch: t + 1 };
    for (const tt of st.targets) {
      for (const [k, v] of Object.entries(tt.stats)) row[`${tt.task}/${tt.dataset}/train/${k}`] = v;
    }

    // A mid-epoch resume continues the epoch's loss sums where the interrupted run left them.
    const sums = new StepSums(resumingMidEpoch ? spec.resumeState : undefined);
    let stoppedAt = -1;
    for (let pass = 0; pass < passes && stoppedAt < 0; pass++) {
      const e = t * passes + pass;
      const steps = gen.steps(e);
      const progress = new Progress(
        `epoch ${t + 1}/${epochs}${passes > 1 ? ` pass ${pass + 1}/${passes}` : ""} ${
          active.map((s) => s.name).join("+")
        }`,
        steps,
        { quiet: bool(o, "quiet") },
      );
      let b = 0;
      for (const batch of gen.epoch(e, { pseudo })) {
        const global = pass * steps + b;
        b++;
        if (resumingMidEpoch && global < startBatch) continue;
        if (scheduled) setOptimizerLr(st.optimizer, st.lr * lrFactor(lrSchedule, stepsBefore[e] + b - 1));
        const res = await runBatch(batch, {
          spec,
          optimizer: st.optimizer,
          weights,
          weighting,
          lr: st.lr,
          temperatures,
        });
        if (res.fault) {
          const where = `epoch ${t + 1}, batch ${global + 1}`;
          if (String(o.nan_policy) !== "skip") {
            throw new Error(
              `${res.fault} at ${where}; stopping (use --nan_policy=skip to skip such batches)`,
            );
          }
          st.skipped++;
          spec.log(`skipped ${where}: ${res.fault}`);
        } else {
          st.imagesSeen += batch.size;
          sums.add(res);
        }
        progress.step(b, batch.size, res.heads as Record<string, number>);
        if (spec.stop?.requested) {
          stoppedAt = global + 1;
          break;
        }
      }
      progress.done("");
    }
    st.trainSeconds += (performance.now() - epochStart) / 1000;
    if (stoppedAt < 0) weighting.epochEnd?.();
    st.taskWeighting = weighting.state();
    if (stoppedAt >= 0) {
      const state = { ...trainState(st, t, stoppedAt), ...sums.saved() };
      await spec.checkpoints.save("last", { model, optimizer: st.optimizer, state });
      spec.log(
        `interrupted: checkpoint written in epoch ${
          t + 1
        } after batch ${stoppedAt}; resume with --resume --run=${spec.outDir}`,
      );
      interrupted = true;
      break;
    }

    // Evaluation on held-out splits.
    if (spec.recalibrate && bool(o, "bn_recalibrate")) recalibrateOn(spec, active, trainRows);
    // Validation every epoch; the test split once, after the last epoch (below).
    const entries = await scoreSplit("val");
    const score = selectionScore(entries);
    const improved = score.valAcc > st.best.valAcc;
    Object.assign(row, evalColumns(entries), sums.columns(), {
      // The LR of the epoch's last step (the schedule's, where one runs).
      lr: optimizerLr(st.optimizer),
      images_seen: st.imagesSeen,
      skipped_batches: st.skipped,
      time_s: Math.round(st.trainSeconds * 1000) / 1000,
      "all/all/val/acc": score.valAcc,
    });
    // Model selection: best validation accuracy; the plateau counter watches the validation loss.
    if (improved) st.best = { epoch: t + 1, valAcc: score.valAcc, row: { ...row } };
    if (score.valLoss < st.bestValLoss - 1e-6) {
      st.bestValLoss = score.valLoss;
      st.sinceImprove = 0;
    } else st.sinceImprove++;
    let stop = false;
    for (const h of hooks) {
      if ((await h.epochEnd?.(st, { t, row, entries, improved })) === "stop") stop = true;
    }
    lastEpoch = t + 1;
    if (stop) break;
  }
  st.optimizer.dispose();
  weighting.dispose();
  // The test split is scored once, on the weights chosen on validation (checkpoint/best when a later
  // epoch was not better): what the run reports, with one inference pass instead of one per improving
  // epoch, and a test set that nothing during training looked at.
  if (!interrupted && st.best.epoch > 0) {
    if (st.best.epoch !== lastEpoch) {
      const saved = await spec.checkpoints.restoreBest(model);
      if (saved !== st.best.epoch) {
        throw new Error(
          `checkpoint/best holds epoch ${saved}, but validation selected epoch ${st.best.epoch}; ` +
            `delete the run directory and train again`,
        );
      }
    }
    const testEntries = await scoreSplit("test");
    Object.assign(st.best.row, evalColumns(testEntries));
    for (const h of hooks) await h.tested?.(st, { epoch: st.best.epoch, entries: testEntries });
  }
  const { best, imagesSeen, skipped, trainSeconds } = st;

  const test: Record<string, number> = {};
  const val: Record<string, number> = {};
  const pseudo: Record<string, number> = {};
  for (const [k, v] of Object.entries(best.row)) {
    if (typeof v !== "number") continue;
    if (k.includes("/test/")) test[k] = v;
    if (k.includes("/val/")) val[k] = v;
    if (/\/train\/(pseudo_acc|target_acc|pseudo_acc_kept|pseudo_acc_rejected)$/.test(k)) pseudo[k] = v;
  }
  const summary: TrainSummary = {
    method: plugin.name,
    epochs,
    bestEpoch: best.epoch,
    bestValAcc: best.valAcc,
    test,
    val,
    trainSeconds,
    imagesSeen,
    skippedBatches: skipped,
    interrupted,
    pseudo,
    evalRows,
    evalsPerCycle: scheduleCycle(schedule, sets),
    finishedAt: new Date().toISOString(),
  };
  if (!interrupted) await writeJsonAtomic(join(spec.outDir, "summary.json"), summary);
  return summary;
}

/** Per-row student temperatures of the teacher targets, by dataset and task (only where a strategy set them). */
type RowTemperatures = Map<string, Partial<Record<TaskName, Float32Array>>>;

function rowTemperatures(targets: TeacherTargets[]): RowTemperatures {
  const out: RowTemperatures = new Map();
  for (const tt of targets) {
    if (!tt.temperature) continue;
    const m = out.get(tt.dataset) ?? {};
    m[tt.task] = tt.temperature;
    out.set(tt.dataset, m);
  }
  return out;
}

/** The batch rows' temperatures for one head, or undefined when every row is at 1. */
function batchTemperature(batch: Batch, task: TaskName, temps: RowTemperatures): Float32Array | undefined {
  if (temps.size === 0) return undefined;
  const out = new Float32Array(batch.size).fill(1);
  let any = false;
  for (let r = 0; r < batch.size; r++) {
    const tt = temps.get(batch.rows[r].dataset)?.[task];
    if (!tt) continue;
    out[r] = tt[batch.rows[r].row];
    if (out[r] !== 1) any = true;
  }
  return any ? out : undefined;
}

async function runBatch(
  batch: Batch,
  ctx: {
    spec: TrainSpec;
    optimizer: tf.Optimizer;
    weights: Partial<Record<TaskName, number>>;
    weighting: TaskWeighting;
    lr: number;
    temperatures: RowTemperatures;
  },
) {
  const { spec } = ctx;
  const set0 = spec.sets[0];
  const x = tf.tensor4d(batch.x, [batch.size, set0.height, set0.width, set0.channels]);
  const targets: Partial<Record<TaskName, tf.Tensor2D>> = {};
  const masks: Partial<Record<TaskName, tf.Tensor1D>> = {};
  const temperatures: Partial<Record<TaskName, tf.Tensor1D>> = {};
  const labelled: Partial<Record<TaskName, tf.Tensor1D>> = {};
  for (const t of spec.model.tasks) {
    targets[t.name] = tf.tensor2d(batch.targets[t.name]!, [batch.size, t.classes]);
    masks[t.name] = tf.tensor1d(batch.masks[t.name]!);
    const tau = batchTemperature(batch, t.name, ctx.temperatures);
    if (tau) temperatures[t.name] = tf.tensor1d(tau);
    // A row's target is a true label when its dataset labels the task (teacher targets fill only the others).
    const own = batch.masks[t.name]!.map((m, r) =>
      m > 0 &&
        spec.sets.some((s) => s.name === batch.rows[r].dataset && s.tasks.some((k) => k.name === t.name))
        ? 1
        : 0
    );
    labelled[t.name] = tf.tensor1d(own);
  }
  try {
    return await trainStep({ x, targets, masks, temperatures, labelled }, {
      model: spec.model,
      optimizer: ctx.optimizer,
      lossWeights: ctx.weights,
      terms: spec.plugin.loss.terms,
      options: spec.options,
      regularizer: () => spec.model.regularizationLoss?.() ?? null,
      weighting: ctx.weighting,
      lr: ctx.lr,
    });
  } finally {
    tf.dispose([
      x,
      ...Object.values(targets),
      ...Object.values(masks),
      ...Object.values(temperatures),
      ...Object.values(labelled),
    ]);
  }
}

function recalibrateOn(spec: TrainSpec, active: ImageSet[], rows: Map<string, Int32Array>): void {
  const per = 512 / active.length;
  const set0 = active[0];
  const size = set0.height * set0.width * set0.channels;
  const picks: Float32Array[] = [];
  for (const s of active) {
    const r = rows.get(s.name)!;
    const step = Math.max(1, Math.floor(r.length / per));
    for (let i = 0; i < r.length && picks.length < 512; i += step) {
      picks.push(s.images.subarray(r[i] * size, (r[i] + 1) * size));
    }
  }
  const buf = new Float32Array(picks.length * size);
  picks.forEach((p, i) => buf.set(p, i * size));
  const x = tf.tensor4d(buf, [picks.length, set0.height, set0.width, set0.channels]);
  spec.recalibrate!(spec.model, x);
  x.dispose();
}

function evalColumnNames(spec: TrainSpec): string[] {
  const cols: string[] = [];
  for (const s of spec.sets) {
    for (const t of s.tasks) {
      if (!spec.model.tasks.some((m) => m.name === t.name)) continue;
      for (const m of ["acc", "mean_class_acc", "loss"]) cols.push(`${t.name}/${s.name}/val/${m}`);
    }
  }
  for (const t of spec.model.tasks) cols.push(`${t.name}/all/train/loss`);
  cols.push("all/all/train/loss", "all/all/val/acc");
  if (spec.plugin.labels.needsTeacher) {
    for (const s of spec.sets) {
      for (const t of spec.model.tasks) {
        if (s.tasks.some((x) => x.name === t.name)) continue;
        for (
          const k of [
            "pseudo_acc",
            "target_acc",
            "targeted_fraction",
            "pseudo_acc_kept",
            "pseudo_acc_rejected",
          ]
        ) {
          cols.push(`${t.name}/${s.name}/train/${k}`);
        }
        for (const k of ["mean_weight", "kept_fraction"]) cols.push(`${t.name}/${s.name}/train/${k}`);
        for (let c = 0; c < t.classes; c++) cols.push(`${t.name}/${s.name}/train/hist_${c}`);
      }
    }
  }
  cols.push("lr", "images_seen", "skipped_batches", "time_s");
  return cols;
}

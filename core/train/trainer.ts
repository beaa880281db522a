/**
 * The schedule loop every method plugin runs on. Per outer epoch: pick the active datasets from the
 * data mode (single / joint / alternating), refresh the teacher targets if the label strategy needs
 * them, run masked-loss steps, evaluate on the held-out splits, append the log row, write confusion
 * matrices and checkpoints (last and best by validation accuracy).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import type { MethodPlugin } from "../plugin.ts";
import { bool, num, type Options } from "../options.ts";
import { Rng } from "../rng.ts";
import type { HiddenTruth, ImageSet, MultiTaskModel, TaskName } from "../types.ts";
import { writeJsonAtomic } from "../fs.ts";
import { RunLog, writeConfusion } from "./run_log.ts";
import { Progress } from "./progress.ts";
import { trainStep } from "./step.ts";
import { evalColumns, type EvalEntry, evaluate, selectionScore } from "./evaluate.ts";
import { buildTeacherTargets, type TeacherTargets } from "./teacher.ts";
import {
  alternatingGenerator,
  type Batch,
  type DataSource,
  type EpochGenerator,
  jointGenerator,
  type PseudoTargets,
  singleGenerator,
} from "../../datasets/generators.ts";
import type { CheckpointIO, TrainState } from "./checkpoint_io.ts";

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
  method: string;
  epochs: number;
  bestEpoch: number;
  bestValAcc: number;
  /** Test metrics at the best validation epoch, `task/dataset/test/metric`. */
  test: Record<string, number>;
  /** Validation metrics at the best epoch. */
  val: Record<string, number>;
  trainSeconds: number;
  imagesSeen: number;
  skippedBatches: number;
  interrupted: boolean;
  pseudo: Record<string, number>;
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

/** Datasets trained in outer epoch `t`. */
export function activeSets(mode: string, sets: ImageSet[], t: number): ImageSet[] {
  if (mode === "single") return [sets[0]];
  if (mode === "alternating") return [sets[t % sets.length]];
  return sets;
}

/** Training rows per dataset after the `--max_train_rows` budget (a seeded, stable subset). */
export function budgetRows(sets: ImageSet[], o: Options): Map<string, Int32Array> {
  const max = typeof o.max_train_rows === "number" ? o.max_train_rows : Infinity;
  const m = new Map<string, Int32Array>();
  for (const s of sets) {
    let rows = s.split.train;
    if (rows.length > max) {
      const perm = new Rng(`${o.seed}:budget:${s.name}`).permutation(rows.length).subarray(0, max);
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
  let lr = freezeUntil > 0 ? 1e-3 : baseLr;
  let optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-7);
  model.setTrunkTrainable(freezeUntil === 0);

  const sources: DataSource[] = sets.map((s) => ({ set: s, rows: trainRows.get(s.name)! }));
  const gen = makeGenerator(plugin.dataMode, sources, {
    heads: model.tasks,
    batchSize: num(o, "batch_size"),
    seed,
    order: o.shuffle === "batches" ? "fixed" : "shuffle",
    augment: bool(o, "is_augmentation"),
  });
  const evalCols = evalColumnNames(spec);
  const runLog = new RunLog(spec.outDir, evalCols);
  let start = 0;
  let startBatch = 0;
  let best = { epoch: -1, valAcc: -Infinity, row: {} as Record<string, number | string> };
  let targets: TeacherTargets[] = [];
  let imagesSeen = 0;
  let skipped = 0;
  let trainSeconds = 0;
  let sinceImprove = 0;
  let bestValLoss = Infinity;

  if (spec.resumeState) {
    const st = spec.resumeState;
    start = st.epoch;
    startBatch = st.batch;
    best = st.best as typeof best;
    imagesSeen = st.imagesSeen;
    skipped = st.skipped;
    trainSeconds = st.trainSeconds;
    lr = st.lr;
    sinceImprove = st.sinceImprove;
    bestValLoss = st.bestValLoss;
    targets = st.targets ?? [];
    optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-7);
    await spec.checkpoints.restoreOptimizer(optimizer);
    model.setTrunkTrainable(start >= freezeUntil);
    const dropped = await runLog.truncateFrom(start);
    if (dropped > 0) spec.log(`resume: dropped ${dropped} log row(s) written after the checkpoint`);
  } else {
    await runLog.init();
  }

  const stateAt = (epoch: number, batch: number): TrainState => ({
    epoch,
    batch,
    best,
    imagesSeen,
    skipped,
    trainSeconds,
    lr,
    sinceImprove,
    bestValLoss,
    targets: batch > 0 ? targets : undefined,
  });

  let interrupted = false;
  for (let t = start; t < epochs; t++) {
    if (t === freezeUntil && freezeUntil > 0) {
      model.setTrunkTrainable(true);
      lr = baseLr;
      optimizer.dispose();
      optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-7);
      spec.log(`epoch ${t}: trunk unfrozen, lr ${lr}`);
    }
    const epochStart = performance.now();
    const active = activeSets(plugin.dataMode, sets, t);
    const resumingMidEpoch = t === start && startBatch > 0;
    // Refresh the teacher targets at the start of the outer epoch (joint methods from epoch 1).
    const refresh = plugin.labels.needsTeacher && !resumingMidEpoch &&
      (plugin.dataMode === "alternating" || t > 0);
    if (refresh) {
      targets = await buildTeacherTargets({
        model,
        strategy: plugin.labels,
        ctx: { options: o, rng: new Rng(`${seed}:labels:${t}`), compat: bool(o, "compat") },
        targetsFor: active,
        all: sets,
        trainRows,
        hidden: spec.hidden,
        batchSize: num(o, "eval_batch_size"),
      });
      if (bool(o, "t2_scaling") && plugin.labels.name.startsWith("distilled")) {
        // Hinton's T^2 scaling: targets are not renormalised, so scaling them scales their loss.
        const t2 = num(o, "distill_t") ** 2;
        for (const tt of targets) for (let i = 0; i < tt.targets.length; i++) tt.targets[i] *= t2;
      }
    } else if (!plugin.labels.needsTeacher) {
      targets = [];
    }
    const pseudo = sources.map((src) => {
      const p: PseudoTargets = {};
      for (const tt of targets) if (tt.dataset === src.set.name) p[tt.task] = tt.targets;
      return p;
    });
    const row: Record<string, number | string> = { epoch: t };
    for (const tt of targets) {
      for (const [k, v] of Object.entries(tt.stats)) row[`${tt.task}/${tt.dataset}/train/${k}`] = v;
    }

    // A mid-epoch resume continues the epoch's loss sums where the interrupted run left them.
    const headSums: Record<string, number> = resumingMidEpoch ? { ...spec.resumeState?.lossSums } : {};
    let doneSteps = resumingMidEpoch ? spec.resumeState?.lossSteps ?? 0 : 0;
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
        const res = await runBatch(batch, { spec, optimizer, weights });
        if (res.fault) {
          const where = `epoch ${t}, batch ${global}`;
          if (String(o.nan_policy) === "skip") {
            skipped++;
            spec.log(`skipped ${where}: ${res.fault}`);
          } else {
            throw new Error(
              `${res.fault} at ${where}; stopping (use --nan_policy=skip to skip such batches)`,
            );
          }
        } else {
          imagesSeen += batch.size;
          doneSteps++;
          for (const [k, v] of Object.entries(res.heads)) headSums[k] = (headSums[k] ?? 0) + v;
          headSums.__total = (headSums.__total ?? 0) + res.total;
        }
        progress.step(b, batch.size, res.heads as Record<string, number>);
        if (spec.stop?.requested) {
          stoppedAt = global + 1;
          break;
        }
      }
      progress.done("");
    }
    trainSeconds += (performance.now() - epochStart) / 1000;
    if (stoppedAt >= 0) {
      const state = { ...stateAt(t, stoppedAt), lossSums: headSums, lossSteps: doneSteps };
      await spec.checkpoints.save("last", { model, optimizer, state });
      spec.log(
        `interrupted: checkpoint written at epoch ${t}, batch ${stoppedAt}; resume with --resume --run=${spec.outDir}`,
      );
      interrupted = true;
      break;
    }

    // Evaluation on held-out splits.
    if (spec.recalibrate && bool(o, "bn_recalibrate")) recalibrateOn(spec, active, trainRows);
    // Validation every epoch; the test split only when validation improves (the reported numbers are
    // the test metrics of the epoch chosen on validation), which saves an inference pass per epoch.
    const valEntries = await evaluate(model, { sets, splits: ["val"], batchSize: num(o, "eval_batch_size") });
    const score = selectionScore(valEntries);
    const improved = score.valAcc > best.valAcc;
    const testEntries = improved
      ? await evaluate(model, { sets, splits: ["test"], batchSize: num(o, "eval_batch_size") })
      : [];
    const entries = [...valEntries, ...testEntries];
    Object.assign(row, evalColumns(entries));
    for (const [k, v] of Object.entries(headSums)) {
      if (k !== "__total") row[`${k}/all/train/loss`] = doneSteps ? v / doneSteps : NaN;
    }
    row["all/all/train/loss"] = doneSteps ? (headSums.__total ?? 0) / doneSteps : NaN;
    row["lr"] = lr;
    row["images_seen"] = imagesSeen;
    row["skipped_batches"] = skipped;
    row["time_s"] = Math.round(trainSeconds * 1000) / 1000;
    row["all/all/val/acc"] = score.valAcc;
    await runLog.append(row);
    await writeConfusions(spec.outDir, t, entries, model);
    spec.onEpochEnd?.(t, row);

    if (improved) best = { epoch: t, valAcc: score.valAcc, row: { ...row } };
    if (score.valLoss < bestValLoss - 1e-6) {
      bestValLoss = score.valLoss;
      sinceImprove = 0;
    } else sinceImprove++;
    await spec.checkpoints.save("last", { model, optimizer, state: stateAt(t + 1, 0) });
    if (improved) await spec.checkpoints.save("best", { model, optimizer, state: stateAt(t + 1, 0) });
    if (!bool(o, "quiet")) {
      spec.log(
        `epoch ${t + 1}/${epochs}: ${
          entries.filter((e) => e.split === "val").map((e) => `${e.task}/${e.dataset} val ${pct(e.acc)}`)
            .join(", ")
        }${improved ? " (best)" : ""}`,
      );
    }
    const patience = typeof o.patience === "number" ? o.patience : Infinity;
    if (sinceImprove >= patience && bool(o, "reduce_lr")) {
      lr *= 0.1;
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
      sinceImprove = 0;
      spec.log(`epoch ${t + 1}: validation loss flat for ${patience} epochs, lr -> ${lr}`);
    }
    if (sinceImprove >= patience && bool(o, "early_stopping")) {
      spec.log(`early stopping after epoch ${t + 1}`);
      break;
    }
  }
  optimizer.dispose();

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
  };
  if (!interrupted) await writeJsonAtomic(join(spec.outDir, "summary.json"), summary);
  return summary;
}

function makeGenerator(
  mode: string,
  sources: DataSource[],
  opts: Parameters<typeof jointGenerator>[1],
): EpochGenerator {
  if (mode === "single") return singleGenerator(sources[0], opts);
  if (mode === "alternating") return alternatingGenerator(sources, opts);
  return jointGenerator(sources, opts);
}

async function runBatch(
  batch: Batch,
  ctx: { spec: TrainSpec; optimizer: tf.Optimizer; weights: Partial<Record<TaskName, number>> },
) {
  const { spec } = ctx;
  const set0 = spec.sets[0];
  const x = tf.tensor4d(batch.x, [batch.size, set0.height, set0.width, set0.channels]);
  const targets: Partial<Record<TaskName, tf.Tensor2D>> = {};
  const masks: Partial<Record<TaskName, tf.Tensor1D>> = {};
  for (const t of spec.model.tasks) {
    targets[t.name] = tf.tensor2d(batch.targets[t.name]!, [batch.size, t.classes]);
    masks[t.name] = tf.tensor1d(batch.masks[t.name]!);
  }
  try {
    return await trainStep({ x, targets, masks }, {
      model: spec.model,
      optimizer: ctx.optimizer,
      lossWeights: ctx.weights,
      terms: spec.plugin.loss.terms,
      options: spec.options,
      regularizer: () => spec.model.regularizationLoss?.() ?? null,
    });
  } finally {
    tf.dispose([x, ...Object.values(targets), ...Object.values(masks)]);
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

async function writeConfusions(dir: string, t: number, entries: EvalEntry[], model: MultiTaskModel) {
  for (const e of entries) {
    const labels = model.tasks.find((m) => m.name === e.task)!.labels;
    const name = `epoch_${t}_${e.task}_${e.dataset}_${e.split}.csv`;
    await writeConfusion(join(dir, "confusion", name), labels, e.confusion);
  }
}

function evalColumnNames(spec: TrainSpec): string[] {
  const cols: string[] = [];
  for (const s of spec.sets) {
    for (const t of s.tasks) {
      if (!spec.model.tasks.some((m) => m.name === t.name)) continue;
      for (const split of ["val", "test"]) {
        for (const m of ["acc", "mean_class_acc", "loss"]) cols.push(`${t.name}/${s.name}/${split}/${m}`);
      }
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

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : "n/a";
}

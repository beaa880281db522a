/**
 * Task weighting: how the per-task losses of a multi-task batch, or their gradients, become one update.
 * One strategy per file in this folder (`ew.ts`, `uw.ts`, `pcgrad.ts`, …), discovered at run time like the
 * method plugins in `methods/`; `--task_weighting=NAME` picks one for any multi-task method. The name keeps
 * it apart from SA-MTL's per-sample weighting, which stays inside each head's masked loss (a pseudo label's
 * weight scales its target row), so the two compose: a strategy only ever sees whole-task losses.
 *
 * Two kinds of strategy:
 * - loss strategies (`needsGradients: false`: ew, uw, dwa, rlw) turn the present tasks' losses into one
 *   scalar inside the gradient scope (`combineLosses`);
 * - gradient strategies (`needsGradients: true`: pcgrad, mgda, cagrad, imtl, gradnorm, nash-mtl) get one
 *   gradient per present task with respect to the shared representation (the trunk output, as LibMTL's
 *   `rep_grad` option does; one backward pass through the trunk, one small backward per head), and return
 *   the combined representation gradient (`combineGradients`); the trunk is trained on it, each head on its
 *   own task's gradient.
 *
 * A task is *present* in a batch when at least one row carries a (true or pseudo) target for it. An absent
 * task contributes nothing: it is not passed to the strategy at all, and the strategy's state for it
 * (log-variance, loss history, GradNorm weight) is left exactly as it was.
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { OptionError, type Options, type OptionSpec } from "../options.ts";
import type { Rng } from "../rng.ts";
import type { TaskName } from "../types.ts";

/** What a strategy is created with, once per run. */
export interface WeightingContext {
  /** Every task head of the model, in head order. */
  tasks: TaskName[];
  /** The run's options (strategies read their hyper-parameters from them). */
  options: Options;
  /** Seeded generator for random strategies (RLW) and PCGrad's projection order. */
  rng: Rng;
}

/** A strategy's per-step summary: the weight it gave each present task (logged per epoch). */
export type TaskWeights = Partial<Record<TaskName, number>>;

/**
 * The result of a gradient strategy on one batch. Every strategy here updates along a linear combination
 * of the task gradients, so it returns the coefficients: the update is sum_k coefficients_k g_k. That lets
 * the step measure conflicts in one space (`--task_grad_space`) and apply the combination to the
 * per-row representation gradients.
 */
export interface CombinedGradient {
  /** beta_k: the update is sum_k beta_k g_k. */
  coefficients: number[];
  /** The effective weight of each present task, for the log (e.g. MGDA's alpha; PCGrad: the share kept). */
  weights: number[];
}

/** One run's instance of a strategy (it may hold state: variables, loss history, weights). */
export interface TaskWeighting {
  /** The strategy's name (`ew`, `uw`, …). */
  readonly name: string;
  /** Whether `combineGradients` is used (per-task representation gradients) instead of `combineLosses`. */
  readonly needsGradients: boolean;
  /**
   * Loss strategies: the scalar to minimise from the present tasks' losses (called inside the gradient
   * scope, so tensors it creates from `variables` are trained). `tasks[i]` owns `losses[i]`.
   */
  combineLosses?(losses: tf.Scalar[], tasks: TaskName[]): { loss: tf.Scalar; weights: number[] };
  /**
   * Gradient strategies: the coefficients of the combined update from the present tasks' gradients
   * (`grads[i]` belongs to `tasks[i]`, flattened, in the space `--task_grad_space` names) and their loss
   * values.
   */
  combineGradients?(grads: Float32Array[], tasks: TaskName[], losses: number[]): CombinedGradient;
  /**
   * Called after every applied step with the present tasks' loss values (each head's masked loss times its
   * `--*_loss_weights`) and the learning rate of the step (UW's log-variance update, DWA's epoch means).
   */
  observe?(tasks: TaskName[], losses: number[], step: { lr: number }): void;
  /** Called at the end of every outer epoch (DWA moves its loss history on). */
  epochEnd?(): void;
  /** A JSON-able snapshot of the state (checkpoints), and its inverse. */
  state(): unknown;
  restore(state: unknown): void;
  /** Free tensors and variables. */
  dispose(): void;
}

/** A strategy file's default export. */
export interface TaskWeightingStrategy {
  /** kebab-case id given to `--task_weighting`. */
  name: string;
  /** One line: what it does. */
  summary: string;
  /** The paper it implements. */
  citation: string;
  /** Whether it needs per-task gradients (of the shared representation). */
  needsGradients: boolean;
  /** How a task with no target rows in the batch is treated. */
  absentTask: string;
  /** Hyper-parameter flags it reads (declared once in {@link TASK_WEIGHTING_OPTIONS}). */
  reads: string[];
  create(ctx: WeightingContext): TaskWeighting;
}

/** The flags of task weighting, declared once here; the runner's schema includes them. */
export const TASK_WEIGHTING_OPTIONS: OptionSpec[] = [
  {
    name: "task_weighting",
    type: "string",
    default: "ew",
    help:
      "How task losses or gradients are combined (ew, uw, dwa, rlw, pcgrad, mgda, cagrad, imtl, gradnorm, nash-mtl; see docs/task_weighting.md).",
  },
  {
    name: "task_grad_space",
    type: "enum",
    default: "rep",
    choices: ["rep", "rep_sum"],
    help:
      "Gradient weightings: where task gradients are compared: rep (the representation gradient of every row, LibMTL's rep_grad) or rep_sum (summed over the batch's rows: tasks labelled on different rows can still conflict).",
  },
  {
    name: "dwa_temperature",
    type: "float",
    default: 2,
    min: 1e-3,
    max: 1e3,
    help: "DWA: softmax temperature T over the loss ratios.",
  },
  {
    name: "cagrad_c",
    type: "float",
    default: 0.5,
    min: 0,
    max: 10,
    help: "CAGrad: radius c of the ball around the mean gradient.",
  },
  {
    name: "gradnorm_alpha",
    type: "float",
    default: 1.5,
    min: 0,
    max: 10,
    help: "GradNorm: asymmetry alpha (how strongly slow tasks are pulled up).",
  },
  {
    name: "gradnorm_lr",
    type: "float",
    default: 0.025,
    min: 0,
    max: 10,
    help: "GradNorm: learning rate of the task weights.",
  },
];

const DIR = new URL("./", import.meta.url);
let cache: TaskWeightingStrategy[] | null = null;

function check(s: unknown, file: string): TaskWeightingStrategy {
  const m = s as Partial<TaskWeightingStrategy> | undefined;
  const bad = (what: string): never => {
    throw new Error(`core/task_weighting/${file}: not a task weighting: ${what}`);
  };
  if (!m || typeof m !== "object") return bad("no default export");
  if (typeof m.name !== "string" || !/^[a-z][a-z0-9-]*$/.test(m.name)) bad("`name` must be kebab-case");
  if (typeof m.citation !== "string" || typeof m.summary !== "string") bad("`citation`/`summary` missing");
  if (typeof m.needsGradients !== "boolean") bad("`needsGradients` must be a boolean");
  if (typeof m.absentTask !== "string") bad("`absentTask` must say how a task without rows is treated");
  if (typeof m.create !== "function") bad("`create` missing");
  for (const r of m.reads ?? []) {
    if (!TASK_WEIGHTING_OPTIONS.some((o) => o.name === r)) bad(`reads undeclared flag --${r}`);
  }
  return m as TaskWeightingStrategy;
}

/**
 * Use `strategies` as the discovered set instead of reading this folder: for a one-file bundle
 * (`deno bundle`), which cannot import the folder's files at run time. Each is checked like a discovered one.
 */
export function registerBundledWeightings(strategies: { file: string; strategy: unknown }[]): void {
  cache = [...strategies].sort((a, b) => (a.file < b.file ? -1 : 1)).map((s) => check(s.strategy, s.file));
}

/** Every strategy in this folder (files not starting with `_`, except this one), sorted by name. */
export async function discoverWeightings(): Promise<TaskWeightingStrategy[]> {
  if (cache) return cache;
  const files: string[] = [];
  for await (const e of Deno.readDir(DIR)) {
    if (!e.isFile || !e.name.endsWith(".ts") || e.name.startsWith("_") || e.name === "mod.ts") continue;
    files.push(e.name);
  }
  const out: TaskWeightingStrategy[] = [];
  for (const f of files.sort()) out.push(check((await import(new URL(f, DIR).href)).default, f));
  const names = new Set<string>();
  for (const s of out) {
    if (names.has(s.name)) throw new Error(`task weighting "${s.name}" is declared twice`);
    names.add(s.name);
  }
  cache = out.sort((a, b) => a.name.localeCompare(b.name));
  return cache;
}

/** The strategy `--task_weighting` names; an unknown name is a user error listing the known ones. */
export async function findWeighting(name: string): Promise<TaskWeightingStrategy> {
  const all = await discoverWeightings();
  const hit = all.find((s) => s.name === name.toLowerCase());
  if (!hit) {
    throw new OptionError(
      `--task_weighting=${name}: unknown task weighting; known: ${all.map((s) => s.name).join(", ")}`,
    );
  }
  return hit;
}

/** The `--task_weighting` value of a run (`ew` when absent). */
export function weightingName(o: Options): string {
  return typeof o.task_weighting === "string" ? o.task_weighting : "ew";
}

/**
 * Refuse a weighting a run cannot use: an unknown name, or anything but `ew` on a single-task method
 * (one loss has nothing to weigh against).
 */
export async function checkWeighting(
  o: Options,
  ctx: { method: string; singleTask: boolean },
): Promise<void> {
  const name = weightingName(o);
  await findWeighting(name);
  if (ctx.singleTask && name !== "ew") {
    throw new OptionError(
      `--task_weighting=${name}: ${ctx.method} is single-task and trains one loss; only ew applies`,
    );
  }
}

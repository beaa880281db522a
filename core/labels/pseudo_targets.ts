/**
 * Pseudo-label targets shared by the joint pseudo-label baselines (LEL-LTN, DCN-AP): a label
 * distribution becomes p_max * onehot(argmax) or onehot(argmax), and the teacher is refreshed every
 * `--passes_per_refresh` passes over the data (the original joint scripts refreshed every 4, docs/original.md B34).
 * @module
 */
import type { Options, OptionSpec } from "../options.ts";
import { optionReader } from "../options.ts";
import type { TargetSet, TeacherView } from "../plugin.ts";
import { PSEUDO_OPTIONS } from "./strategies.ts";

/** How a pseudo label becomes a target row. */
export type PseudoTargetMode = "scaled" | "onehot";

/** `--passes_per_refresh`: outer passes between teacher refreshes of the joint pseudo-label methods. */
export const PASSES_PER_REFRESH_OPTION: OptionSpec = {
  name: "passes_per_refresh",
  type: "int",
  default: 4,
  min: 1,
  max: 100,
  help:
    "passes over the data between teacher refreshes (joint pseudo-label modes ran 4, docs/original.md B34)",
};

const read = optionReader([PASSES_PER_REFRESH_OPTION, ...PSEUDO_OPTIONS]);

/** `passes_per_refresh` (default 4): outer passes between teacher refreshes for the joint pseudo modes. */
export function passesPerRefresh(options: Options): number {
  return read.num(options, "passes_per_refresh");
}

/** `--pseudo_target` of the options. */
export function pseudoTargetMode(options: Options): PseudoTargetMode {
  return read.choice<PseudoTargetMode>(options, "pseudo_target");
}

/** Options of {@link pseudoTargets}. */
export interface PseudoTargetOptions {
  /** Class count of the task the targets are for. */
  classes: number;
  /** Soft probabilities, or one-hot argmax labels (see {@link PseudoTargetMode}). */
  mode: PseudoTargetMode;
}

/**
 * Turn n*C label distributions into pseudo targets: onehot(argmax), scaled by p_max in `scaled` mode.
 * Weights are p_max per row. Rows whose distribution is all zero (or not finite) stay masked.
 */
export function pseudoTargets(dist: Float32Array, opts: PseudoTargetOptions): TargetSet {
  const c = opts.classes;
  const n = dist.length / c;
  if (!Number.isInteger(n)) {
    throw new Error(`pseudoTargets: ${dist.length} values is not a multiple of ${c} classes`);
  }
  const targets = new Float32Array(n * c);
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let pmax = 0;
    for (let a = 0; a < c; a++) {
      const v = dist[i * c + a];
      if (Number.isFinite(v) && v > pmax) {
        pmax = v;
        best = a;
      }
    }
    if (best < 0) continue;
    weights[i] = Math.min(1, pmax);
    targets[i * c + best] = opts.mode === "scaled" ? weights[i] : 1;
  }
  return { targets, weights };
}

/** Mean of a numeric array (0 when empty). */
export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length ? s / a.length : 0;
}

/** Check that a teacher view holds n x C probabilities (a strategy's precondition). */
export function checkView(view: TeacherView, who: string): void {
  const c = view.task.classes;
  if (view.probs.length !== view.n * c) {
    throw new Error(
      `${who} (${view.task.name}): ${view.probs.length} teacher probabilities for ${view.n} rows x ${c} classes`,
    );
  }
}

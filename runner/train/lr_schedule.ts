/**
 * Learning-rate schedules over a run's training steps. `constant` keeps the run's LR (the original
 * scripts); `cosine` decays it along half a cosine to zero at the last step, after an optional linear
 * warm-up. The factor depends only on the step's place in the whole run, so a resumed run continues the
 * same curve and alternating and joint methods with equal budgets follow the same curve over their steps.
 * @module
 */

/** The schedules `--lr_schedule` accepts. */
export const LR_SCHEDULES = ["constant", "cosine"] as const;
/** A schedule name. */
export type LrScheduleName = typeof LR_SCHEDULES[number];

/** What a schedule needs to know. */
export interface LrScheduleOptions {
  /** The schedule. */
  name: LrScheduleName;
  /** Share of the run's steps spent warming up linearly from 1/warmupSteps of the LR to all of it (0 = none). */
  warmup: number;
  /** Training steps of the whole run. */
  totalSteps: number;
}

/**
 * The multiplier of the LR at 0-based step `step` of the run: 1 for `constant` after warm-up; for `cosine`,
 * 0.5 (1 + cos(pi p)) where p runs from 0 at the end of warm-up to 1 after the last step.
 */
export function lrFactor(o: LrScheduleOptions, step: number): number {
  const total = Math.max(1, o.totalSteps);
  const warmSteps = Math.min(total, Math.round(Math.max(0, o.warmup) * total));
  if (step < warmSteps) return (step + 1) / warmSteps;
  if (o.name === "constant") return 1;
  const p = (step - warmSteps) / Math.max(1, total - warmSteps);
  return 0.5 * (1 + Math.cos(Math.PI * Math.min(1, p)));
}

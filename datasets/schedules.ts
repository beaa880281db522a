/**
 * The built-in training schedules (see `Schedule` in core/plugin.ts): `single` (one dataset, one head),
 * `joint` (every batch mixes the datasets in proportion) and `alternating` (one dataset per outer epoch).
 * Each owns what differs between them, so the trainer and the comparison never branch on a mode name.
 * @module
 */
import type { Schedule } from "../core/plugin.ts";
import type { ImageSet } from "../core/types.ts";
import { alternatingGenerator, jointGenerator, singleGenerator } from "./generators.ts";

/** One dataset, one head (single-task learning). */
export const SINGLE: Schedule = {
  name: "single",
  datasets: "one",
  active: (sets) => [sets[0]],
  generator: (sources, opts) => singleGenerator(sources[0], opts),
  // A single-task run has no missing task, so its teacher (if any) never needs refreshing.
  refreshAt: () => false,
  epochsFor: ({ passes }) => passes,
};

/** Every batch mixes all datasets in proportion; the teacher of epoch 1 is the model after epoch 1. */
export const JOINT: Schedule = {
  name: "joint",
  datasets: "many",
  active: (sets) => [...sets],
  generator: (sources, opts) => jointGenerator(sources, opts),
  // Before the first outer epoch the model is untrained, so joint methods start with masked targets.
  refreshAt: (epoch) => epoch > 0,
  // An outer epoch of a pseudo-label method is `passesPerRefresh` passes over every dataset.
  epochsFor: ({ passes, passesPerRefresh }) =>
    Math.max(1, Math.round(passes / Math.max(1, passesPerRefresh))),
};

/** One dataset per outer epoch (emotion first); the teacher labels that dataset's missing task. */
export const ALTERNATING: Schedule = {
  name: "alternating",
  datasets: "many",
  active: (sets, epoch) => [sets[epoch % sets.length]],
  generator: (sources, opts) => alternatingGenerator(sources, opts),
  refreshAt: () => true,
  // Each outer epoch passes over one dataset, so every dataset gets `passes` passes in passes*D epochs.
  epochsFor: ({ passes, datasets }) => passes * datasets,
};

/** The built-in schedules by name. */
export const SCHEDULES: Readonly<Record<string, Schedule>> = {
  single: SINGLE,
  joint: JOINT,
  alternating: ALTERNATING,
};

/**
 * Evaluations per cycle of `schedule` on `sets`: the fewest consecutive outer epochs, from the first, that
 * together train every set (1 for a joint or single-dataset schedule, one per set for an alternating one).
 * A run is evaluated after every outer epoch, so under alternation each column's validation accuracy is a
 * sawtooth of this period, which the convergence check and the curves average out. 1 when no cycle shows
 * within four epochs per set, or when the schedule throws: a plugin's schedule is probed past a run's epochs
 * (one may index a plan of exactly those), or on stand-in sets that lack what it reads.
 */
export function scheduleCycle(schedule: Schedule, sets: readonly ImageSet[]): number {
  if (sets.length <= 1) return 1;
  const trained = new Set<ImageSet>();
  try {
    for (let epoch = 0; epoch < 4 * sets.length; epoch++) {
      for (const s of schedule.active(sets, epoch)) trained.add(s);
      if (trained.size === sets.length) return epoch + 1;
    }
  } catch {
    // No cycle is known.
  }
  return 1;
}

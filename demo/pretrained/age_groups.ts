/**
 * Age in years -> the 8 Adience groups (0-2, 4-6, 8-12, 15-20, 25-32, 38-43, 48-53, 60-100). The groups
 * leave gaps (3, 7, 13-14, 21-24, 33-37, 44-47, 54-59), so the rule is "nearest group": an age inside a
 * group is that group; an age in a gap goes to the younger group below the gap's midpoint and to the
 * older group from the midpoint on. Cut points: 3, 7, 13.5, 22.5, 35, 45.5, 56.5 years.
 * @module
 */
import { AGE8_LABELS } from "../../datasets/label_spaces.ts";

/** Upper and lower ends of the Adience groups in years, index = class id. */
export const ADIENCE_AGE_RANGES: readonly (readonly [number, number])[] = [
  [0, 2],
  [4, 6],
  [8, 12],
  [15, 20],
  [25, 32],
  [38, 43],
  [48, 53],
  [60, 100],
];

/** Where one group ends and the next begins: the midpoints of the gaps (7 cuts for 8 groups). */
export const ADIENCE_AGE_CUTS: readonly number[] = ADIENCE_AGE_RANGES.slice(1).map(([lo], i) =>
  (ADIENCE_AGE_RANGES[i][1] + lo) / 2
);

/** The nearest Adience group (class id) of an age in years; NaN and negative ages give group 0. */
export function ageToAdienceGroup(years: number): number {
  for (let g = 0; g < ADIENCE_AGE_CUTS.length; g++) if (!(years >= ADIENCE_AGE_CUTS[g])) return g;
  return ADIENCE_AGE_CUTS.length;
}

/** The Adience label of an age in years (e.g. 34 -> "25-32", 35 -> "38-43"). */
export function ageToAdienceLabel(years: number): string {
  return AGE8_LABELS[ageToAdienceGroup(years)];
}

/**
 * Sum a distribution over whole years (index = age in years, as age-classifier softmax outputs) into
 * the 8 groups with the nearest-group rule; the result sums to the input's sum.
 */
export function yearDistributionToGroups(perYear: ArrayLike<number>): Float32Array {
  const out = new Float32Array(ADIENCE_AGE_RANGES.length);
  for (let y = 0; y < perYear.length; y++) out[ageToAdienceGroup(y)] += perYear[y];
  return out;
}

/** Expected age (years) of a distribution over whole years. */
export function expectedYears(perYear: ArrayLike<number>): number {
  let s = 0, w = 0;
  for (let y = 0; y < perYear.length; y++) {
    s += y * perYear[y];
    w += perYear[y];
  }
  return w > 0 ? s / w : NaN;
}

/**
 * Registry of the real-dataset loaders: dataset name -> loader, plus the download instructions used
 * in "dataset not found" errors.
 *
 * ```ts
 * import { getLoader } from "./datasets/loaders/mod.ts";
 * const scan = await getLoader("sfew").scan("data/SFEW 2.0");
 * ```
 * @module
 */
import { REAL_DATASETS, type RealDatasetName, realDatasetName } from "../label_spaces.ts";
import type { DatasetLoader } from "./_common.ts";
import { adienceLoader } from "./adience.ts";
import { aflwLoader } from "./aflw.ts";
import { expwLoader } from "./expw.ts";
import { fer2013Loader } from "./fer2013.ts";
import { ferplusLoader } from "./ferplus.ts";
import { imdbLoader } from "./imdb.ts";
import { sfewLoader } from "./sfew.ts";

export type { DatasetLoader, ImageSource, PrepItem, ScanResult, SkippedRow, SplitName } from "./_common.ts";
export { DatasetFormatError } from "./_common.ts";

/** Every loader by canonical dataset name. */
export const LOADERS: Readonly<Record<RealDatasetName, DatasetLoader>> = {
  fer2013: fer2013Loader,
  ferplus: ferplusLoader,
  expw: expwLoader,
  sfew: sfewLoader,
  aflw: aflwLoader,
  adience: adienceLoader,
  imdb: imdbLoader,
};

/** Error for an unknown dataset name or a dataset that is not on disk; one line, with what to do. */
export class DatasetNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetNotFoundError";
  }
}

/** The loader for `name` (case-insensitive, aliases such as `Fer+` and `SFEW` allowed). */
export function getLoader(name: string): DatasetLoader {
  const real = realDatasetName(name);
  if (real === undefined) {
    throw new DatasetNotFoundError(`unknown dataset '${name}' (real datasets: ${REAL_DATASETS.join(", ")})`);
  }
  return LOADERS[real];
}

/**
 * The one-line "not found" message for a dataset: where it was looked for, where to get it, and the
 * prep command to run once it is there.
 */
export function notFoundMessage(name: string, dir: string): string {
  const l = getLoader(name);
  return `dataset ${l.name} not found under ${dir}; ${l.download}, unpack it (expected layout: ` +
    `${l.layouts.join("; or ")}), then run deno task prep --dataset=${l.name} --root=DIR`;
}

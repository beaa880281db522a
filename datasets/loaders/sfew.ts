/**
 * SFEW 2.0 loader: class folders `Train/Train_Aligned_Faces/<Class>/*.png` and
 * `Val/Val_Aligned_Faces/<Class>/*.png` (also `Train/<Class>/`, `Val/<Class>/`). Class names map to the
 * FER2013 order (Angry 0, Disgust 1, Fear 2, Happy 3, Sad 4, Surprise 5, Neutral 6).
 * Split: SFEW's test labels are not public, so the official Val set is tagged `test` (as papers report
 * on it) and the loader carves the validation rows out of Train.
 * @module
 */
import { join } from "node:path";
import {
  type DatasetLoader,
  firstDir,
  type PrepItem,
  scanClassFolders,
  type SkippedRow,
  type SplitName,
  where,
} from "./_common.ts";

/** SFEW class folder name (lower case) -> emotion id. */
export const SFEW_CLASSES: Readonly<Record<string, number>> = {
  angry: 0,
  disgust: 1,
  fear: 2,
  happy: 3,
  sad: 4,
  surprise: 5,
  neutral: 6,
};

async function partDir(base: string, part: "Train" | "Val"): Promise<string | undefined> {
  return await firstDir([
    join(base, part, `${part}_Aligned_Faces`),
    join(base, `${part}_Aligned_Faces`),
    join(base, part),
  ]);
}

/** The SFEW loader. */
export const sfewLoader: DatasetLoader = {
  name: "sfew",
  title: "SFEW 2.0 (Static Facial Expressions in the Wild)",
  folder: "SFEW 2.0",
  extraColumns: [],
  layouts: [
    "ROOT/Train/Train_Aligned_Faces/<Class>/*.png and ROOT/Val/Val_Aligned_Faces/<Class>/*.png " +
    "(or ROOT/Train/<Class>/, ROOT/Val/<Class>/)",
  ],
  download:
    "request SFEW 2.0 (aligned faces) from the EmotiW challenge organisers (academic research licence; " +
    "the licence forbids redistribution)",
  async scan(root) {
    const items: PrepItem[] = [];
    const skipped: SkippedRow[] = [];
    const found: string[] = [];
    for (const [part, split] of [["Train", "train"], ["Val", "test"]] as ["Train" | "Val", SplitName][]) {
      const dir = await partDir(root, part);
      if (!dir) continue;
      found.push(where(root, dir));
      await scanClassFolders({
        root,
        dir,
        split,
        classOf: (name) => SFEW_CLASSES[name.toLowerCase()],
        items,
        skipped,
      });
    }
    if (found.length === 0) return undefined;
    return { layout: `class folders ${found.join(" + ")}`, items, skipped };
  },
};

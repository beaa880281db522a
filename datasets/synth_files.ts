/**
 * Writing the synthetic datasets as files (`deno task synth`, whose flags live in
 * `runner/synth_command.ts`).
 *
 * Writes the three synthetic datasets as files, for inspection or for use by other tools:
 * `DIR/<name>/images/<row>.png`, `DIR/<name>/<name>.csv` (`db_name, full_path, <own task columns>`, paths
 * relative to the CSV's folder), `DIR/<name>/<name>.truth.json` (every task's truth: evaluation only) and
 * `DIR/<name>/contact_sheet.png` (rows = classes of each own task, labelled). `--sheet` also writes one
 * combined sheet (emotion, pose, gender, age rows, each from the dataset labelled for it).
 * @module
 */
import { join } from "node:path";
import { Image } from "imagescript";
import { TextPainter } from "../core/text_painter.ts";
import { stringifyCsv } from "../core/csv.ts";
import { writeFileAtomic, writeJsonAtomic } from "../core/fs.ts";
import type { TaskName, TaskSpec } from "../core/types.ts";
import { encodeTruth } from "./_embedded_cache.ts";
import { faceTask } from "./embedded_labels.ts";
import { generateSynth, SYNTH_NAMES, type SynthData } from "./synth/mod.ts";

/** Parsed CLI options. */
export interface SynthCliOptions {
  out: string;
  seed: number;
  size: number;
  /** Domain shift of the emotion/pose pair (default: the generator's). */
  domainShift?: number;
  n?: number;
  sheet?: string;
  perClass: number;
}

async function loadFont(): Promise<TextPainter | null> {
  try {
    return await TextPainter.load();
  } catch {
    return null; // no font: sheets without class names
  }
}

function rowImage(data: SynthData, row: number, scale: number): Image {
  const s = data.rows.size;
  const img = new Image(s * scale, s * scale);
  const bm = img.bitmap;
  const src = data.rows.rgb;
  const base = row * s * s * 3;
  for (let y = 0; y < s * scale; y++) {
    for (let x = 0; x < s * scale; x++) {
      const i = base + (Math.floor(y / scale) * s + Math.floor(x / scale)) * 3;
      const o = (y * s * scale + x) * 4;
      bm[o] = src[i];
      bm[o + 1] = src[i + 1];
      bm[o + 2] = src[i + 2];
      bm[o + 3] = 255;
    }
  }
  return img;
}

/** A grid: one row per class of `task` (labels from `data`'s truth), `perClass` samples each, class names on the left. */
async function sheetFor(
  data: SynthData,
  task: TaskSpec,
  perClass: number,
  font: TextPainter | null,
): Promise<Image> {
  const s = data.rows.size;
  const scale = s < 64 ? 2 : 1;
  const cell = s * scale + 4;
  const labelW = 150;
  const img = new Image(labelW + perClass * cell, task.classes * cell);
  img.fill(0xffffffff);
  const labels = data.truth.labels[task.name]!;
  for (let c = 0; c < task.classes; c++) {
    let k = 0;
    for (let i = 0; i < data.rows.n && k < perClass; i++) {
      if (labels[i] !== c) continue;
      img.composite(rowImage(data, i, scale), labelW + k * cell + 2, c * cell + 2);
      k++;
    }
    if (font) {
      const text = await font.render(`${task.name}: ${task.labels[c]}`, 16, 0x000000ff);
      img.composite(text, 4, c * cell + Math.max(0, (cell - text.height) / 2));
    }
  }
  return img;
}

function stack(images: Image[]): Image {
  const w = Math.max(...images.map((i) => i.width));
  const h = images.reduce((a, i) => a + i.height + 6, 0);
  const out = new Image(w, h);
  out.fill(0xd0d0d0ff);
  let y = 0;
  for (const i of images) {
    out.composite(i, 0, y);
    y += i.height + 6;
  }
  return out;
}

/** Write the datasets; returns the written folders. */
export async function writeSynth(
  opts: SynthCliOptions,
  log: (s: string) => void = console.log,
): Promise<string[]> {
  const font = await loadFont();
  const folders: string[] = [];
  const sheets: Partial<Record<TaskName, Image>> = {};
  for (const name of SYNTH_NAMES) {
    const t0 = performance.now();
    const data = generateSynth(name, {
      seed: opts.seed,
      size: opts.size,
      n: opts.n,
      domainShift: opts.domainShift,
    });
    const dir = join(opts.out, name);
    const own = Object.keys(data.rows.labels) as TaskName[];
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < data.rows.n; i++) {
      const file = `images/${String(i).padStart(6, "0")}.png`;
      await writeFileAtomic(join(dir, file), await rowImage(data, i, 1).encode());
      const row: Record<string, unknown> = { db_name: name, full_path: file };
      for (const t of own) row[t] = data.rows.labels[t]![i];
      rows.push(row);
    }
    await writeFileAtomic(join(dir, `${name}.csv`), stringifyCsv(["db_name", "full_path", ...own], rows));
    await writeJsonAtomic(join(dir, `${name}.truth.json`), encodeTruth(data.truth));
    const own_sheets = await Promise.all(own.map((t) => sheetFor(data, faceTask(t), opts.perClass, font)));
    for (let k = 0; k < own.length; k++) sheets[own[k]] = own_sheets[k];
    await writeFileAtomic(join(dir, "contact_sheet.png"), await stack(own_sheets).encode());
    folders.push(dir);
    log(
      `${name}: ${data.rows.n} rows at ${opts.size}x${opts.size} -> ${dir} (${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s)`,
    );
  }
  if (opts.sheet) {
    const order: TaskName[] = ["emotion", "pose", "gender", "age"];
    await writeFileAtomic(opts.sheet, await stack(order.map((t) => sheets[t]!)).encode());
    log(`contact sheet -> ${opts.sheet}`);
  }
  return folders;
}

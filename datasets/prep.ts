/**
 * The work of `deno task prep --dataset=NAME --root=DIR [--out=DIR]` (its flags: runner/prep_command.ts):
 * turn a raw dataset folder into image-label
 * pairs and one clean CSV, `<out>/db/<name>_cleaned.csv` (docs/original.md §2.2's columns without the pandas index,
 * UTF-8): `db_name, full_path, <task columns>, split, <extra columns>`. Faces are cropped (one file per
 * face) or rendered from label-file pixels into `<out>/prepared/<name>/`; existing face images are
 * referenced in place and decoded once to check them. Rows that cannot be used are listed with the
 * reason (missing file, unreadable image, unknown label, ...) in the report and in
 * `<out>/db/<name>_skipped.csv`.
 *
 * Idempotent and resumable: every file is written atomically, crops already written are not redone,
 * and the images already checked are remembered in `<out>/db/.<name>_checked.json` (by size and mtime).
 * @module
 */
import { isAbsolute, join, relative, resolve } from "node:path";
import { stringifyCsv } from "../core/csv.ts";
import { exists, writeFileAtomic, writeJsonAtomic } from "../core/fs.ts";
import { Rng } from "../core/rng.ts";
import { checkOutDir } from "../core/out_dir.ts";
import type { TaskName } from "../core/types.ts";
import { cropImage, encodeImage, grayToRgba, isBlank, readImage, type RgbaImage } from "./image_io.ts";
import { DATASET_TASKS, labelSpace } from "./label_spaces.ts";
import {
  DatasetNotFoundError,
  getLoader,
  notFoundMessage,
  type PrepItem,
  type SkippedRow,
} from "./loaders/mod.ts";
import { isDir } from "./loaders/_common.ts";

/** Options of {@link runPrep} (the flags of `deno task prep`). */
export interface PrepOptions {
  /** Dataset name (fer2013, ferplus, expw, sfew, aflw, adience, imdb; aliases allowed). */
  dataset: string;
  /** Raw dataset folder (default `<out>/<usual folder name>`, e.g. `data/SFEW 2.0`). */
  root?: string;
  /** Where `db/` and `prepared/` are written (default `data`); the loaders read from here. */
  out?: string;
  /** Seed of the `limit` subset (default 1). */
  seed?: number;
  /** Keep a seeded random subset of at most this many rows (quick experiments). */
  limit?: number;
  /** Print only errors and the one-line summary. */
  quiet?: boolean;
  /** Scan and check everything, write nothing. */
  dryRun?: boolean;
  /** Print the report as JSON instead of text. */
  json?: boolean;
  /** Where report lines go (default `console.log`). */
  log?: (line: string) => void;
}

/** What {@link runPrep} did. */
export interface PrepReport {
  dataset: string;
  layout: string;
  root: string;
  out: string;
  /** Path of the cleaned CSV (not written in a dry run). */
  csv: string;
  dryRun: boolean;
  /** Rows in the CSV. */
  rows: number;
  /** Image files written by this run. */
  written: number;
  /** Image files found already written (or checked) by an earlier run. */
  reused: number;
  /** Per task: rows per class name. */
  counts: Partial<Record<TaskName, Record<string, number>>>;
  /** Rows per official split tag (`none` when the dataset has no official split). */
  splits: Record<string, number>;
  skipped: SkippedRow[];
  seconds: number;
}

/** The cleaned CSV's columns for a dataset. */
export function preparedColumns(dataset: string): string[] {
  const l = getLoader(dataset);
  return ["db_name", "full_path", ...DATASET_TASKS[l.name], "split", ...l.extraColumns];
}

interface CheckState {
  version: 1;
  /** path -> "size:mtime" + ("" when the image is good, else "|reason"). */
  files: Record<string, string>;
}

async function loadState(path: string): Promise<CheckState> {
  try {
    const s = JSON.parse(await Deno.readTextFile(path)) as CheckState;
    if (s.version === 1 && s.files && typeof s.files === "object") return s;
  } catch { /* absent or unreadable: start afresh */ }
  return { version: 1, files: {} };
}

async function fileKey(path: string): Promise<string | undefined> {
  try {
    const st = await Deno.stat(path);
    return `${st.size}:${st.mtime?.getTime() ?? 0}`;
  } catch {
    return undefined;
  }
}

function selectSubset(items: PrepItem[], limit: number, seed: number): PrepItem[] {
  if (items.length <= limit) return items;
  const perm = new Rng(seed).derive("prep-limit").permutation(items.length);
  const keep = Array.from(perm.subarray(0, limit)).sort((a, b) => a - b);
  return keep.map((i) => items[i]);
}

/** Run the preparation of one dataset; throws {@link DatasetNotFoundError} when nothing usable is found. */
export async function runPrep(opts: PrepOptions): Promise<PrepReport> {
  const t0 = performance.now();
  const loader = getLoader(opts.dataset);
  const name = loader.name;
  const out = opts.out ?? "data";
  // A bad --out is the user's to fix, and is found before the scan (also under --dry_run).
  if (opts.out !== undefined) await checkOutDir(opts.out);
  const root = opts.root ?? join(out, loader.folder);
  const log = opts.log ?? ((s: string) => console.log(s));
  const say = (s: string) => {
    if (!opts.quiet && !opts.json) log(s);
  };
  if (!(await isDir(root))) throw new DatasetNotFoundError(notFoundMessage(name, root));
  const scan = await loader.scan(root);
  if (!scan) throw new DatasetNotFoundError(notFoundMessage(name, root));
  say(
    `${loader.title}: found ${scan.layout} (${scan.items.length} rows, ${scan.skipped.length} skipped so far)`,
  );

  const items = opts.limit !== undefined ? selectSubset(scan.items, opts.limit, opts.seed ?? 1) : scan.items;
  const skipped: SkippedRow[] = [...scan.skipped];
  const prepDir = join(out, "prepared", name);
  const dbDir = join(out, "db");
  const statePath = join(dbDir, `.${name}_checked.json`);
  const state = await loadState(statePath);
  let stateDirty = 0;
  let written = 0, reused = 0;
  const outAbs = resolve(out);
  const csvPath = (p: string) => {
    const abs = resolve(p);
    const rel = relative(outAbs, abs);
    return rel.startsWith("..") || isAbsolute(rel) ? abs : rel.split("\\").join("/");
  };

  // Crops of one original are made together so each original is decoded once.
  const cropGroups = new Map<string, number[]>();
  items.forEach((it, i) => {
    if (it.source.kind === "crop") {
      const g = cropGroups.get(it.source.path);
      if (g) g.push(i);
      else cropGroups.set(it.source.path, [i]);
    }
  });
  const finalPath: (string | undefined)[] = new Array(items.length);
  const reason: (string | undefined)[] = new Array(items.length);
  let lastProgress = performance.now();

  async function makeCrops(path: string, idx: number[]): Promise<void> {
    const todo: number[] = [];
    for (const i of idx) {
      const dst = join(prepDir, items[i].output!);
      if (await exists(dst)) {
        finalPath[i] = dst;
        reused++;
      } else todo.push(i);
    }
    if (todo.length === 0) return;
    let img: RgbaImage;
    try {
      img = await readImage(path);
    } catch (e) {
      for (const i of todo) reason[i] = `unreadable image: ${(e as Error).message}`;
      return;
    }
    for (const i of todo) {
      const it = items[i];
      if (it.source.kind !== "crop") continue;
      let crop: RgbaImage;
      try {
        crop = cropImage(img, it.source.box);
      } catch (e) {
        reason[i] = (e as Error).message;
        continue;
      }
      const dst = join(prepDir, it.output!);
      if (!opts.dryRun) {
        const jpeg = /\.jpe?g$/i.test(dst);
        await writeFileAtomic(dst, await encodeImage(crop, { format: jpeg ? "jpeg" : "png", quality: 95 }));
        written++;
      }
      finalPath[i] = dst;
    }
  }

  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const src = it.source;
    if (src.kind === "crop") {
      const g = cropGroups.get(src.path);
      if (g) {
        cropGroups.delete(src.path);
        await makeCrops(src.path, g);
      }
    } else if (src.kind === "pixels") {
      const img = grayToRgba(src.gray, src.width, src.height);
      const dst = join(prepDir, it.output!);
      if (it.rejectBlank && isBlank(img)) reason[i] = "blank image (all pixels equal)";
      else if (await exists(dst)) {
        finalPath[i] = dst;
        reused++;
      } else {
        if (!opts.dryRun) {
          await writeFileAtomic(dst, await encodeImage(img, { format: "png" }));
          written++;
        }
        finalPath[i] = dst;
      }
    } else {
      const key = await fileKey(src.path);
      if (key === undefined) {
        reason[i] = `missing file ${src.path}`;
      } else {
        const known = state.files[src.path];
        if (known !== undefined && known.split("|")[0] === key) {
          reused++;
          const bad = known.includes("|") ? known.slice(known.indexOf("|") + 1) : undefined;
          if (bad) reason[i] = bad;
          else finalPath[i] = src.path;
        } else {
          let bad: string | undefined;
          try {
            const img = await readImage(src.path);
            if (it.rejectBlank && isBlank(img)) bad = "blank image (all pixels equal)";
          } catch (e) {
            bad = `unreadable image: ${(e as Error).message}`;
          }
          state.files[src.path] = bad ? `${key}|${bad}` : key;
          if (++stateDirty >= 2000 && !opts.dryRun) {
            await writeJsonAtomic(statePath, state);
            stateDirty = 0;
          }
          if (bad) reason[i] = bad;
          else finalPath[i] = src.path;
        }
      }
    }
    if (!opts.quiet && !opts.json && performance.now() - lastProgress > 5000) {
      lastProgress = performance.now();
      console.error(`  ${name}: ${i + 1}/${items.length} rows checked`);
    }
  }
  if (stateDirty > 0 && !opts.dryRun) await writeJsonAtomic(statePath, state);

  const tasks = DATASET_TASKS[name];
  const columns = preparedColumns(name);
  const rows: Record<string, unknown>[] = [];
  const counts: Partial<Record<TaskName, Record<string, number>>> = {};
  for (const t of tasks) counts[t] = Object.fromEntries(labelSpace(name, t).labels.map((l) => [l, 0]));
  const splits: Record<string, number> = {};
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (reason[i] !== undefined || finalPath[i] === undefined) {
      skipped.push({ where: it.where, reason: reason[i] ?? "no image" });
      continue;
    }
    const row: Record<string, unknown> = {
      db_name: name,
      full_path: csvPath(finalPath[i]!),
      split: it.split ?? "",
    };
    for (const t of tasks) {
      const c = it.labels[t]!;
      row[t] = c;
      const label = labelSpace(name, t).labels[c];
      counts[t]![label]++;
    }
    for (const c of loader.extraColumns) row[c] = it.extra?.[c] ?? "";
    const s = it.split ?? "none";
    splits[s] = (splits[s] ?? 0) + 1;
    rows.push(row);
  }
  const csv = join(dbDir, `${name}_cleaned.csv`);
  const report: PrepReport = {
    dataset: name,
    layout: scan.layout,
    root,
    out,
    csv,
    dryRun: !!opts.dryRun,
    rows: rows.length,
    written,
    reused,
    counts,
    splits,
    skipped,
    seconds: Math.round((performance.now() - t0) / 10) / 100,
  };
  if (!opts.dryRun) {
    await writeFileAtomic(csv, stringifyCsv(columns, rows));
    await writeFileAtomic(
      join(dbDir, `${name}_skipped.csv`),
      stringifyCsv(["where", "reason"], skipped.map((s) => ({ where: s.where, reason: s.reason }))),
    );
    const { skipped: _s, ...summary } = report;
    await writeJsonAtomic(join(dbDir, `${name}_prep_report.json`), {
      ...summary,
      skippedCount: skipped.length,
    });
  }
  if (opts.json) log(JSON.stringify(report, null, 2));
  else printReport(report, opts, log);
  return report;
}

function printReport(r: PrepReport, opts: PrepOptions, log: (s: string) => void): void {
  const summary =
    `${r.dataset}: ${r.rows} rows${r.dryRun ? " (dry run, nothing written)" : ` -> ${r.csv}`}, ` +
    `${r.skipped.length} skipped, ${r.written} images written, ${r.reused} reused (${r.seconds} s)`;
  if (opts.quiet) {
    log(summary);
    return;
  }
  for (const [task, byClass] of Object.entries(r.counts)) {
    log(`  ${task}: ${Object.entries(byClass).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
  log(`  splits: ${Object.entries(r.splits).map(([k, v]) => `${k} ${v}`).join(", ") || "(none)"}`);
  if (r.skipped.length > 0) {
    const byReason = new Map<string, number>();
    for (const s of r.skipped) {
      const key = s.reason.replace(/ [^ ]*\/[^ ]*/g, " <file>").replace(/'[^']*'/g, "'…'");
      byReason.set(key, (byReason.get(key) ?? 0) + 1);
    }
    log(`  skipped by reason: ${[...byReason].map(([k, v]) => `${v} x ${k}`).join("; ")}`);
    const show = r.skipped.slice(0, 20);
    for (const s of show) log(`    ${s.where}: ${s.reason}`);
    if (r.skipped.length > show.length) {
      log(
        `    ... ${r.skipped.length - show.length} more${
          r.dryRun ? "" : ` in ${join(r.out, "db", `${r.dataset}_skipped.csv`)}`
        }`,
      );
    }
  }
  log(summary);
}

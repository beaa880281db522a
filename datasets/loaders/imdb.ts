/**
 * IMDB(-WIKI) loader, gender only (its ages are in years and cannot feed the 8-group age head, docs/original.md B25).
 * Two layouts:
 * - the metadata MAT-file `imdb.mat` (or `wiki.mat`) of the cropped-face archive: a 1x1 struct with
 *   fields full_path (cell of paths relative to the MAT-file's folder), gender (0 woman, 1 man, NaN
 *   unknown), face_score (-Inf when no face was found) and second_face_score (NaN when there is none);
 * - the CSV that users commonly convert it to (`imdb.csv` or `db/imdb.csv`): columns full_path, gender
 *   and optionally face_score, second_face_score.
 * Kept rows, as the original cleaning helper: known gender, a detected face, no second face.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { parseCsv } from "../../core/csv.ts";
import {
  DatasetFormatError,
  type DatasetLoader,
  finite,
  firstFile,
  type PrepItem,
  type ScanResult,
  type SkippedRow,
  where,
} from "./_common.ts";
import { matNumbers, matStrings, readMat } from "./_mat.ts";

/** Parse an IMDB gender value: 0 / 1 (also `0.0`, f/m, female/male); undefined when unknown. */
export function imdbGender(v: string | number | undefined): number | undefined {
  if (typeof v === "number") return v === 0 ? 0 : v === 1 ? 1 : undefined;
  const t = (v ?? "").trim().toLowerCase();
  if (t === "0" || t === "0.0" || t === "f" || t === "female" || t === "woman") return 0;
  if (t === "1" || t === "1.0" || t === "m" || t === "male" || t === "man") return 1;
  return undefined;
}

interface Meta {
  path: string;
  gender: number | undefined;
  rawGender: string;
  faceScore?: number;
  secondFaceScore?: number;
  where: string;
}

function readImdbMat(root: string, file: string): Meta[] {
  const vars = readMat(Deno.readFileSync(file), file);
  const top = [...vars.entries()].find(([, v]) => v.kind === "struct");
  if (!top || top[1].kind !== "struct" || top[1].items.length !== 1) {
    throw new DatasetFormatError(`${file}: expected a 1x1 struct variable (imdb or wiki)`);
  }
  const [name, st] = top;
  const s = st.items[0];
  for (const f of ["full_path", "gender"]) {
    if (!(f in s)) throw new DatasetFormatError(`${file}: struct '${name}' has no field '${f}'`);
  }
  const paths = matStrings(s.full_path, `${file}: ${name}.full_path`);
  const gender = matNumbers(s.gender, `${file}: ${name}.gender`);
  const face = s.face_score ? matNumbers(s.face_score, `${file}: ${name}.face_score`) : undefined;
  const second = s.second_face_score
    ? matNumbers(s.second_face_score, `${file}: ${name}.second_face_score`)
    : undefined;
  for (const [f, a] of [["gender", gender], ["face_score", face], ["second_face_score", second]] as const) {
    if (a && a.length !== paths.length) {
      throw new DatasetFormatError(
        `${file}: ${name}.${f} has ${a.length} entries, full_path has ${paths.length}`,
      );
    }
  }
  return paths.map((p, i) => ({
    path: p,
    gender: imdbGender(gender[i]),
    rawGender: String(gender[i]),
    faceScore: face?.[i],
    secondFaceScore: second?.[i],
    where: `${where(root, file)} entry ${i + 1}`,
  }));
}

async function readImdbCsv(root: string, file: string): Promise<Meta[]> {
  const t = parseCsv(await Deno.readTextFile(file), file);
  for (const c of ["full_path", "gender"]) {
    if (!t.columns.includes(c)) throw new DatasetFormatError(`${file}: header has no '${c}' column`);
  }
  const num = (s: string | undefined): number | undefined => {
    if (s === undefined) return undefined;
    const x = s.trim().toLowerCase();
    if (x === "" || x === "nan") return NaN;
    if (x === "-inf" || x === "-infinity") return -Infinity;
    return finite(x) ?? NaN;
  };
  return t.rows.map((r, i) => ({
    path: r.full_path.trim(),
    gender: imdbGender(r.gender),
    rawGender: r.gender,
    faceScore: "face_score" in r ? num(r.face_score) : undefined,
    secondFaceScore: "second_face_score" in r ? num(r.second_face_score) : undefined,
    where: where(root, file, i + 2),
  }));
}

async function toItems(metas: Meta[], bases: string[]): Promise<Pick<ScanResult, "items" | "skipped">> {
  const items: PrepItem[] = [];
  const skipped: SkippedRow[] = [];
  for (const m of metas) {
    if (m.gender === undefined) {
      skipped.push({ where: m.where, reason: `unknown gender '${m.rawGender}'` });
      continue;
    }
    if (m.faceScore !== undefined && !Number.isFinite(m.faceScore)) {
      skipped.push({ where: m.where, reason: "no face detected (face_score is not finite)" });
      continue;
    }
    if (m.secondFaceScore !== undefined && !Number.isNaN(m.secondFaceScore)) {
      skipped.push({ where: m.where, reason: "a second face in the image (second_face_score is set)" });
      continue;
    }
    const path = await firstFile(bases.map((b) => join(b, m.path)));
    if (!path) {
      skipped.push({ where: m.where, reason: `missing file ${m.path}` });
      continue;
    }
    items.push({
      where: m.where,
      source: { kind: "file", path },
      labels: { gender: m.gender },
      extra: { face_score: m.faceScore ?? "" },
    });
  }
  return { items, skipped };
}

/** The IMDB loader (gender only). */
export const imdbLoader: DatasetLoader = {
  name: "imdb",
  title: "IMDB-WIKI (gender only)",
  folder: "imdb",
  extraColumns: ["face_score"],
  layouts: [
    "ROOT/imdb.mat (or ROOT/imdb_crop/imdb.mat, wiki.mat) with images at the paths it lists, relative to its folder",
    "ROOT/imdb.csv or ROOT/db/imdb.csv (columns full_path, gender[, face_score, second_face_score]) with images under ROOT",
  ],
  download:
    "download the IMDB-WIKI cropped faces (imdb_crop.tar with imdb.mat) from the ETH Zurich IMDB-WIKI " +
    "project page (academic research use only)",
  async scan(root) {
    const mat = await firstFile([
      join(root, "imdb.mat"),
      join(root, "imdb_crop", "imdb.mat"),
      join(root, "wiki.mat"),
      join(root, "wiki_crop", "wiki.mat"),
    ]);
    if (mat) {
      const r = await toItems(readImdbMat(root, mat), [dirname(mat), root]);
      return { layout: `MAT-file ${where(root, mat)}`, ...r };
    }
    const csv = await firstFile([join(root, "imdb.csv"), join(root, "db", "imdb.csv")]);
    if (csv) {
      const bases = [root, join(root, "imdb_crop"), join(root, "imdb")];
      if (basename(dirname(csv)) === "db") bases.push(dirname(dirname(csv)));
      const r = await toItems(await readImdbCsv(root, csv), bases);
      return { layout: `CSV ${where(root, csv)}`, ...r };
    }
    return undefined;
  },
};

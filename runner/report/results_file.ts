/**
 * Checks a written results.json (what `writeReport` produces) for scripts that read it: the format tag
 * and, from format 2 on, the fields scripts rely on (`wallSeconds`, per run `method`/`seed`/
 * `stillImproving`, per contrast `diffMean`, `ci95Low`, `ci95High`, `bootCi95Low`, `bootCi95High`,
 * `pHolm`, `minDetectable`), each a finite number or null where it can be undefined; from format 3 on,
 * `dataSeed`, `teachers[]` (`teacherAcc`, `teacherAccInDomain`) and `failedRuns[]`; from format 4 on,
 * `verdict.validity` (`passes`, and each of its `checks[]` with a `name` and an `ok` of true, false or null). Fields it does not
 * know are accepted and left alone, so later versions can add fields (e.g. per-task teacher accuracies)
 * without breaking readers of this one.
 * @module
 */
import { ResultsError, validateCompareResults } from "./results.ts";

type Obj = Record<string, unknown>;

const FORMAT_PREFIX = "sa-mtl-compare-report/";

function fail(path: string, msg: string): never {
  throw new ResultsError(`${path}: ${msg}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function numOrNull(o: Obj, k: string, path: string): void {
  const v = o[k];
  if (v !== null && !(typeof v === "number" && Number.isFinite(v))) {
    fail(`${path}.${k}`, `expected a finite number or null, got ${JSON.stringify(v)?.slice(0, 40)}`);
  }
}

/** The fields of a contrast that must be numbers (or null where undefined). */
export const CONTRAST_NUMBERS = [
  "diffMean",
  "ci95Low",
  "ci95High",
  "bootCi95Low",
  "bootCi95High",
  "pHolm",
  "minDetectable",
] as const;

/**
 * Check a parsed results.json and return its format version (1 or later). Version 1 files only need
 * their `input`; from version 2 on the fields listed in this module are checked. Throws
 * {@link ResultsError} naming the first bad field.
 */
export function validateResultsFile(value: unknown, label = "results.json"): number {
  if (!isObj(value)) fail(label, "expected an object");
  const format = value.format;
  if (typeof format !== "string" || !format.startsWith(FORMAT_PREFIX)) {
    fail(`${label}.format`, `expected "${FORMAT_PREFIX}<version>", got ${JSON.stringify(format)}`);
  }
  const version = Number(format.slice(FORMAT_PREFIX.length));
  if (!Number.isInteger(version) || version < 1) fail(`${label}.format`, `bad version in "${format}"`);
  validateCompareResults(value.input, `${label}.input`);
  if (version < 2) return version;
  if (typeof value.wallSeconds !== "number" || !(value.wallSeconds >= 0)) {
    fail(`${label}.wallSeconds`, `expected seconds >= 0, got ${JSON.stringify(value.wallSeconds)}`);
  }
  const runs = value.runs;
  if (!Array.isArray(runs)) fail(`${label}.runs`, "expected an array");
  runs.forEach((r, i) => {
    const p = `${label}.runs[${i}]`;
    if (!isObj(r)) fail(p, "expected an object");
    if (typeof r.method !== "string") fail(`${p}.method`, "expected a string");
    if (!Number.isInteger(r.seed)) fail(`${p}.seed`, "expected an integer");
    if (r.stillImproving !== null && typeof r.stillImproving !== "boolean") {
      fail(`${p}.stillImproving`, "expected true, false or null");
    }
  });
  if (version >= 3) {
    if (value.dataSeed !== null && !Number.isInteger(value.dataSeed)) {
      fail(`${label}.dataSeed`, "expected an integer or null");
    }
    const teachers = value.teachers;
    if (!Array.isArray(teachers)) fail(`${label}.teachers`, "expected an array");
    teachers.forEach((t, i) => {
      const p = `${label}.teachers[${i}]`;
      if (!isObj(t)) fail(p, "expected an object");
      for (const k of ["task", "dataset", "teacherDataset"]) {
        if (typeof t[k] !== "string") fail(`${p}.${k}`, "expected a string");
      }
      for (const k of ["teacherAcc", "teacherAccInDomain"]) {
        if (!(typeof t[k] === "number" && t[k] >= 0 && t[k] <= 1)) {
          fail(`${p}.${k}`, "expected a fraction in [0, 1]");
        }
      }
    });
    if (!Array.isArray(value.failedRuns)) fail(`${label}.failedRuns`, "expected an array");
  }
  if (version >= 4) {
    const p = `${label}.verdict.validity`;
    const v = isObj(value.verdict) ? value.verdict.validity : undefined;
    if (!isObj(v)) fail(p, "expected an object");
    if (typeof v.passes !== "boolean") fail(`${p}.passes`, "expected true or false");
    if (!Array.isArray(v.checks)) fail(`${p}.checks`, "expected an array");
    v.checks.forEach((c, i) => {
      if (!isObj(c) || typeof c.name !== "string") fail(`${p}.checks[${i}].name`, "expected a string");
      if (c.ok !== null && typeof c.ok !== "boolean") {
        fail(`${p}.checks[${i}].ok`, "expected true, false or null");
      }
    });
    if (v.passes && v.checks.some((c) => (c as Obj).ok !== true)) {
      fail(`${p}.passes`, "true, yet a check did not pass");
    }
  }
  for (const list of ["contrasts", "claimContrasts"]) {
    const cs = value[list];
    if (!Array.isArray(cs)) fail(`${label}.${list}`, "expected an array");
    cs.forEach((c, i) => {
      const p = `${label}.${list}[${i}]`;
      if (!isObj(c)) fail(p, "expected an object");
      for (const k of ["method", "other", "task", "dataset"]) {
        if (typeof c[k] !== "string") fail(`${p}.${k}`, "expected a string");
      }
      for (const k of CONTRAST_NUMBERS) numOrNull(c, k, p);
      for (const [lo, hi] of [["ci95Low", "ci95High"], ["bootCi95Low", "bootCi95High"]]) {
        if (c[lo] !== null && c[hi] !== null && (c[lo] as number) > (c[hi] as number)) {
          fail(`${p}.${lo}`, `${c[lo]} is above ${hi} ${c[hi]}`);
        }
      }
      if (c.pHolm !== null && ((c.pHolm as number) < 0 || (c.pHolm as number) > 1)) {
        fail(`${p}.pHolm`, `${c.pHolm} is not a probability`);
      }
    });
  }
  return version;
}

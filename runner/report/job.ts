/**
 * Report sections about the comparison as a job rather than its methods: the STL teachers' accuracy on the
 * other dataset's hidden truth (what every pseudo-label method starts from), and the runs that failed.
 * @module
 */
import type { CompareResults, TeacherTransfer } from "./results.ts";
import { mean, sampleStd } from "./stats.ts";

/** One (task, target dataset) row: the teachers' transfer over seeds. */
export interface TeacherRow {
  task: string;
  dataset: string;
  teacherDataset: string;
  seeds: number[];
  /** Mean over seeds of the accuracy on the target's hidden truth. */
  teacherAcc: number;
  teacherAccStd: number | null;
  /** Mean over seeds of the teacher's own test accuracy. */
  teacherAccInDomain: number;
  /** `teacherAccInDomain - teacherAcc`: how much the domain shift costs the teacher. */
  gap: number;
}

/** The teachers' transfer per (task, target dataset), averaged over seeds, in input order. */
export function teacherRows(teachers: TeacherTransfer[]): TeacherRow[] {
  const keys = [...new Set(teachers.map((t) => `${t.task}\u0000${t.dataset}\u0000${t.teacherDataset}`))];
  return keys.map((k) => {
    const [task, dataset, teacherDataset] = k.split("\u0000");
    const rows = teachers.filter((t) =>
      t.task === task && t.dataset === dataset && t.teacherDataset === teacherDataset
    );
    const acc = rows.map((r) => r.teacherAcc), own = rows.map((r) => r.teacherAccInDomain);
    const teacherAcc = mean(acc)!, teacherAccInDomain = mean(own)!;
    return {
      task,
      dataset,
      teacherDataset,
      seeds: rows.map((r) => r.seed),
      teacherAcc,
      teacherAccStd: sampleStd(acc),
      teacherAccInDomain,
      gap: teacherAccInDomain - teacherAcc,
    };
  });
}

const pct = (v: number) => (v * 100).toFixed(2);

/** Markdown lines of the teachers' section (empty when the comparison scored none). */
export function teacherSection(results: CompareResults): string[] {
  const rows = teacherRows(results.teachers ?? []);
  if (rows.length === 0) return [];
  return [
    "### STL teachers on the other dataset",
    "",
    "Each single-task (STL) model scored on the test rows of the other dataset, which has no label for its task, " +
    "against that dataset's hidden truth: how well a trained single-task model labels the other dataset, the " +
    "signal a teacher-based method's pseudo labels can carry. " +
    "In domain = the same model's test accuracy on its own dataset; the gap is what the domain shift costs. " +
    "Mean (± std) over seeds.",
    "",
    "| Task | Teacher trained on | Scored on (hidden truth) | Accuracy (%) | In domain (%) | Gap (pp) | Seeds |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.task} | ${r.teacherDataset} | ${r.dataset} | ${pct(r.teacherAcc)}${
        r.teacherAccStd === null ? "" : ` ± ${pct(r.teacherAccStd)}`
      } | ${pct(r.teacherAccInDomain)} | ${(r.gap * 100).toFixed(2)} | ${seedsCell(r.seeds, results.seeds)} |`
    ),
    "",
  ];
}

/**
 * `3`, or `2 of 3 (none for seed 2)` when a seed's STL run has no transfer score (its checkpoint was gone when
 * the score was to be made, e.g. a run copied in without it).
 */
function seedsCell(scored: number[], seeds: number[]): string {
  const missing = seeds.filter((s) => !scored.includes(s));
  return missing.length === 0
    ? String(scored.length)
    : `${scored.length} of ${seeds.length} (none for seed${missing.length === 1 ? "" : "s"} ${
      missing.join(", ")
    })`;
}

/** Markdown lines naming the failed runs (empty when none failed). */
export function failedSection(results: CompareResults): string[] {
  const failed = results.failedRuns ?? [];
  if (failed.length === 0) return [];
  return [
    "## Failed runs",
    "",
    `${failed.length} run${failed.length === 1 ? "" : "s"} failed; every table below is computed without ${
      failed.length === 1 ? "it" : "them"
    } (a method that lost a seed is compared on its remaining seeds). ` +
    "`deno task compare --resume --out=DIR` reruns only these.",
    "",
    "| Method | Seed | Task | Error (last lines) |",
    "| --- | ---: | --- | --- |",
    ...failed.map((f) =>
      `| ${f.method} | ${f.seed} | ${f.task ?? ""} | ${
        f.error.replace(/\s+/g, " ").replace(/\|/g, "\\|").slice(0, 300)
      } |`
    ),
    "",
  ];
}

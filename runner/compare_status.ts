/**
 * `deno task compare --status --out=DIR`: how far a comparison is, between or during its sittings, read
 * from its run directories alone (nothing is written). The report needs every planned run; a comparison
 * grown over days on a small machine needs to be read before that: which runs are finished, which can
 * resume from a checkpoint, what each finished run scored (test accuracy, the report's last-quarter
 * convergence check, its teacher transfer) and how long the rest will take.
 * @module
 */
import { join } from "node:path";
import { columnConvergence, STILL_IMPROVING } from "./report/convergence.ts";
import { curvesFromLog } from "./report/results.ts";
import { fmtPct, fmtPp } from "./report/table.ts";
import { readRunLog } from "./train/run_log.ts";
import { runEvalsPerCycle } from "./registry.ts";
import { formatSeconds, type RunState, runState, type SweepRun } from "./executors/mod.ts";

/** One (task, dataset) a finished run was tested on. */
export interface StatusColumn {
  /** The task tested. */
  task: string;
  /** The dataset whose test split it was tested on. */
  dataset: string;
  /** Test accuracy at the epoch chosen on validation. */
  testAcc: number;
  /** Mean validation accuracy of the last quarter of the budget minus the quarter before (null: unknown). */
  lastQuarterGain: number | null;
  /** lastQuarterGain above the report's 1 pp (null: unknown). */
  stillImproving: boolean | null;
}

/** Where one planned run stands. */
export interface RunStatus {
  /** The method (a plugin name, or a variant's name). */
  method: string;
  /** Training seed. */
  seed: number;
  /** STL: the task it trains. */
  task?: string;
  /** Its directory (where the comparison is now). */
  dir: string;
  /** `done`: finished; `resumable`: a checkpoint to continue from; `fresh`: starts from the beginning. */
  state: RunState;
  /** Finished runs: one entry per (task, dataset) tested. */
  columns?: StatusColumn[];
  /** Finished runs: the epoch chosen on validation. */
  bestEpoch?: number;
  /** Finished runs: seconds spent training. */
  trainSeconds?: number;
  /** Finished runs: when it finished (ISO 8601; absent in runs written before summaries carried it). */
  finishedAt?: string;
  /** Finished STL teachers: accuracy on each other dataset's hidden truth (its `transfer.json`). */
  transfer?: Record<string, number>;
}

/** Where a whole comparison stands. */
export interface CompareStatus {
  /** The comparison's directory (absolute). */
  out: string;
  /** The plan's profile name. */
  profile: string;
  /** Planned runs. */
  total: number;
  /** Runs with a summary.json. */
  finished: number;
  /** Runs with a checkpoint to continue from (interrupted, or running now). */
  resumable: number;
  /** Runs that start from the beginning. */
  fresh: number;
  /** Wall seconds of the sittings so far (each from its start to its last finished run). */
  wallSeconds: number;
  /** Sittings that finished runs (null: unknown, a plan resumed before they were counted). */
  sittings: number | null;
  /**
   * Wall seconds the unfinished runs will take at the pace so far: the wall time so far times the training
   * seconds still to come over those already done, each unfinished run counted at the mean training time
   * of its method's finished runs (all finished runs' mean for a method with none). This carries the
   * sittings' parallelism and overheads over to the rest; a checkpointed run is counted whole. The pace counts
   * only runs that finished in those sittings (a run copied in from elsewhere took no wall time here). Null
   * before any run has finished in them; 0 when every run has.
   */
  remainingSeconds: number | null;
  /** Every planned run, in plan order. */
  runs: RunStatus[];
  /**
   * Finished runs whose config.json disagrees with the plan's arguments for them (each difference as
   * `--flag=trained (planned value)`): `--resume` and `--report_only` refuse such a comparison.
   */
  offPlan?: { dir: string; differences: string[] }[];
  /**
   * Finished STL runs (labels) without the teacher transfer score the report wants: `--report_only` scores it
   * while the run's checkpoint is there; without it the report's teachers table names the seed.
   */
  withoutTransfer?: string[];
}

/** Read one planned run's directory. */
export async function runStatus(run: SweepRun): Promise<RunStatus> {
  const base: RunStatus = {
    method: run.method,
    seed: run.seed,
    ...(run.task ? { task: run.task } : {}),
    dir: run.dir,
    state: await runState(run.dir),
  };
  if (base.state !== "done") return base;
  const summary = JSON.parse(await Deno.readTextFile(join(run.dir, "summary.json")));
  const curves = curvesFromLog((await readRunLog(run.dir)).rows);
  const cycle = await runEvalsPerCycle(
    JSON.parse(await Deno.readTextFile(join(run.dir, "config.json"))),
    summary,
  );
  const columns: StatusColumn[] = [];
  for (const [key, value] of Object.entries(summary.test as Record<string, number>)) {
    const [task, dataset, , metric] = key.split("/");
    if (metric !== "acc") continue;
    // The report's convergence check (the quarters are fractions of the budget, so images seen in total, as
    // the log has them, or per dataset, as the report scales them, split the points alike).
    const { gain, stillImproving } = columnConvergence(curves, task, dataset, cycle);
    columns.push({ task, dataset, testAcc: value, lastQuarterGain: gain, stillImproving });
  }
  const transfer: Record<string, number> | undefined = await Deno.readTextFile(join(run.dir, "transfer.json"))
    .then(JSON.parse).catch(() => undefined);
  return {
    ...base,
    columns,
    bestEpoch: summary.bestEpoch,
    trainSeconds: summary.trainSeconds,
    ...(typeof summary.finishedAt === "string" ? { finishedAt: summary.finishedAt } : {}),
    ...(transfer && Object.keys(transfer).length ? { transfer } : {}),
  };
}

/**
 * The status of every planned run and of the whole comparison; `wallSeconds` and `sittings` come from the
 * plan's sittings (compare.ts).
 */
export async function comparisonStatus(
  plan: { profileName: string; runs: SweepRun[] },
  where: {
    out: string;
    wallSeconds: number;
    sittings: number | null;
    /** When the first sitting started (ms): runs that finished before it are not part of the pace. */
    since?: number;
  },
): Promise<CompareStatus> {
  const runs: RunStatus[] = [];
  for (const r of plan.runs) runs.push(await runStatus(r));
  const count = (s: RunState) => runs.filter((r) => r.state === s).length;
  return {
    out: where.out,
    profile: plan.profileName,
    total: runs.length,
    finished: count("done"),
    resumable: count("resumable"),
    fresh: count("fresh"),
    wallSeconds: where.wallSeconds,
    sittings: where.sittings,
    remainingSeconds: remainingSeconds(runs, where.wallSeconds, where.since),
    runs,
  };
}

/** See {@link CompareStatus.remainingSeconds}. */
export function remainingSeconds(runs: RunStatus[], wallSeconds: number, since = -Infinity): number | null {
  const done = runs.filter((r) => r.state === "done" && typeof r.trainSeconds === "number");
  if (runs.every((r) => r.state === "done")) return 0;
  // Runs without a finish time (written before summaries carried one) count as finished in the sittings.
  const here = done.filter((r) => !r.finishedAt || Date.parse(r.finishedAt) >= since);
  if (here.length === 0) return null;
  const mean = (rs: RunStatus[]) => rs.reduce((a, r) => a + r.trainSeconds!, 0) / rs.length;
  const all = mean(done);
  const spent = here.reduce((a, r) => a + r.trainSeconds!, 0);
  let toCome = 0;
  for (const r of runs) {
    if (r.state === "done") continue;
    const same = done.filter((d) => d.method === r.method);
    toCome += same.length ? mean(same) : all;
  }
  return spent > 0 ? (wallSeconds * toCome) / spent : null;
}

/** `84.00 (-0.90)`: test accuracy and last-quarter gain, in % and pp, as the report writes them. */
function cell(c: StatusColumn | undefined): string {
  return c ? `${fmtPct(c.testAcc)} (${fmtPp(c.lastQuarterGain)})` : "";
}

/**
 * The status as text: a headline (runs finished, wall time, what is left) and a markdown table of the finished
 * runs (test accuracy % and, in brackets, the last-quarter validation gain in pp per task/dataset; best epoch;
 * training seconds; teacher transfer %), then the unfinished runs by state.
 */
export function statusText(s: CompareStatus): string {
  const lines: string[] = [];
  const sittings = s.sittings === null ? "" : ` over ${s.sittings} sitting${s.sittings === 1 ? "" : "s"}`;
  lines.push(
    `compare (${s.profile}) in ${s.out}: ${s.finished} of ${s.total} runs finished, ${s.resumable} part-way ` +
      `(running, or interrupted: they resume from a checkpoint), ${s.fresh} not started`,
  );
  const left = s.remainingSeconds === null
    ? "no run has finished yet, so no estimate of the rest"
    : s.remainingSeconds === 0
    ? "nothing left: deno task compare --report_only writes the report"
    : `about ${formatSeconds(s.remainingSeconds)} left at that pace`;
  lines.push(`wall time so far ${formatSeconds(s.wallSeconds)}${sittings}; ${left}`);
  const done = s.runs.filter((r) => r.state === "done");
  if (done.length) {
    const cols: string[] = [];
    for (const r of done) {
      for (const c of r.columns ?? []) {
        if (!cols.includes(`${c.task}/${c.dataset}`)) cols.push(`${c.task}/${c.dataset}`);
      }
    }
    const header = ["run", "seed", ...cols, "best epoch", "train s", "teacher on the other dataset"];
    const rows = done.map((r) => [
      r.task ? `${r.method} (${r.task})` : r.method,
      String(r.seed),
      ...cols.map((k) => cell(r.columns?.find((c) => `${c.task}/${c.dataset}` === k))),
      String(r.bestEpoch ?? ""),
      r.trainSeconds === undefined ? "" : r.trainSeconds.toFixed(0),
      Object.entries(r.transfer ?? {}).map(([d, a]) => `${fmtPct(a)} on ${d}`).join(", "),
    ]);
    const width = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const right = (i: number) => i > 0 && i < header.length - 1;
    const fmt = (row: string[]) =>
      `| ${row.map((v, i) => right(i) ? v.padStart(width[i]) : v.padEnd(width[i])).join(" | ")} |`;
    lines.push("");
    lines.push(
      `Test accuracy (%) and, in brackets, the last-quarter validation gain (pp; above ${
        STILL_IMPROVING * 100
      } = still improving):`,
    );
    lines.push("");
    lines.push(fmt(header));
    lines.push(`| ${width.map((w, i) => right(i) ? `${"-".repeat(w - 1)}:` : "-".repeat(w)).join(" | ")} |`);
    for (const row of rows) lines.push(fmt(row));
  }
  if (s.offPlan?.length) {
    lines.push("");
    lines.push(
      `trained with other settings than the plan (${s.offPlan.length}; --resume and --report_only refuse them): ` +
        s.offPlan.map((r) => `${r.dir}: ${r.differences.join(", ")}`).join("; "),
    );
  }
  if (s.withoutTransfer?.length) {
    lines.push("");
    lines.push(
      `no teacher transfer score (${s.withoutTransfer.length}; --report_only scores it while the run's ` +
        `checkpoint is there): ${s.withoutTransfer.join(", ")}`,
    );
  }
  for (const state of ["resumable", "fresh"] as const) {
    const rs = s.runs.filter((r) => r.state === state);
    if (!rs.length) continue;
    const name = state === "resumable" ? "part-way" : "not started";
    lines.push("");
    lines.push(`${name} (${rs.length}): ${seedRanges(rs)}`);
  }
  return lines.join("\n");
}

/** `stl/emotion seeds 2-10; sa-mtl seeds 1, 3`: runs grouped by method (and task), seeds as ranges. */
export function seedRanges(runs: Pick<RunStatus, "method" | "task" | "seed">[]): string {
  const groups = new Map<string, number[]>();
  for (const r of runs) {
    const key = `${r.method}${r.task ? `/${r.task}` : ""}`;
    groups.set(key, [...groups.get(key) ?? [], r.seed]);
  }
  return [...groups].map(([key, seeds]) => {
    const sorted = [...new Set(seeds)].sort((a, b) => a - b);
    const parts: string[] = [];
    for (let i = 0; i < sorted.length;) {
      let j = i;
      while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
      parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
      i = j + 1;
    }
    return `${key} seed${sorted.length > 1 ? "s" : ""} ${parts.join(", ")}`;
  }).join("; ");
}

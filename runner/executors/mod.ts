/**
 * Executors of a compare sweep: where its training runs execute. `local` (the default) runs them as
 * processes on this machine; `slurm` submits them as a job array plus a dependent report job. Both
 * run the same `runner/main.ts` command line per run and decide skip/resume/restart from the run
 * directory alone (`run_state.ts`), so a run gives the same numbers under either.
 * @module
 */
import { num, OptionError, type Options, optStr } from "../../core/options.ts";
import { checkSbatchValue, parseSbatchExtra, type SlurmOptions } from "./slurm.ts";

export { type FailedRun, type LocalOutcome, runLocal } from "./local.ts";
export type { LocalOptions } from "./local.ts";
export * from "./run_state.ts";
export * from "./progress.ts";
export {
  arrayScript,
  assertNoActiveSubmission,
  followSweep,
  reportScript,
  type SlurmOptions,
  type SlurmSweep,
  type Submission,
  submitSweep,
} from "./slurm.ts";

/** The executors `--executor` accepts. */
export const EXECUTORS = ["local", "slurm"] as const;

/** Flags that mean something only to the Slurm executor. */
export const SLURM_FLAGS = [
  "partition",
  "time",
  "mem",
  "cpus_per_task",
  "gres",
  "account",
  "qos",
  "sbatch_extra",
] as const;

/**
 * Read the Slurm flags. `cpus_per_task` defaults to `--threads` (each run uses that many threads);
 * `--jobs`, when given, caps the array tasks running at once.
 */
export function slurmOptionsFrom(o: Options, explicit: Set<string>): SlurmOptions {
  const value = (flag: string) => {
    const v = optStr(o, flag);
    return v === undefined ? undefined : checkSbatchValue(flag, v);
  };
  return {
    partition: value("partition"),
    time: value("time"),
    mem: value("mem"),
    cpusPerTask: typeof o.cpus_per_task === "number"
      ? o.cpus_per_task
      : typeof o.threads === "number"
      ? o.threads
      : 1,
    gres: value("gres"),
    account: value("account"),
    qos: value("qos"),
    extra: parseSbatchExtra(optStr(o, "sbatch_extra") ?? ""),
    maxParallel: explicit.has("jobs") ? num(o, "jobs") : undefined,
  };
}

/** Refuse Slurm flags under another executor (they would be silently ignored). */
export function checkExecutorFlags(executor: string, explicit: Set<string>): void {
  if (executor === "slurm") return;
  for (const f of SLURM_FLAGS) {
    if (explicit.has(f)) throw new OptionError(`--${f}: only with --executor=slurm`);
  }
}

/**
 * Where one planned training run stands, read from its run directory alone, so that the local
 * executor, a Slurm array task and `--resume` all decide the same way: `summary.json` means finished,
 * a last checkpoint means resumable (an interrupted run writes one on SIGINT/SIGTERM), and anything
 * else starts afresh.
 * @module
 */
import { join } from "node:path";
import { exists } from "../../core/fs.ts";

/** One training run of a sweep: the `runner/main.ts` arguments and the run directory they write. */
export interface SweepRun {
  method: string;
  seed: number;
  /** STL: the task trained. */
  task?: string;
  dir: string;
  /** Arguments of `runner/main.ts` (e.g. `run stl --dataset=... --out=DIR`). */
  args: string[];
}

/** The file a failed run leaves in its directory (read by the report); removed when the run is retried. */
export const RUN_ERROR_FILE = "error.txt";

/** The exit status of a run stopped by SIGINT/SIGTERM after writing its checkpoint: unfinished, not failed. */
export const INTERRUPTED_EXIT = 130;

/** `done`: summary.json written; `resumable`: a last checkpoint; `fresh`: nothing usable. */
export type RunState = "done" | "resumable" | "fresh";

/** The checkpoint a resumed run continues from (its manifest is written last, so it marks a whole one). */
export const LAST_CHECKPOINT_MANIFEST = join("checkpoint", "last", "manifest.json");

/**
 * Read a run directory's state. A summary.json that does not parse (a file system that lost its contents in a
 * crash after the rename) does not make a run done: it resumes from its checkpoint, or starts again.
 */
export async function runState(dir: string): Promise<RunState> {
  const summary = await Deno.readTextFile(join(dir, "summary.json")).then(JSON.parse).catch(() => null);
  if (summary !== null && typeof summary === "object") return "done";
  if (await exists(join(dir, LAST_CHECKPOINT_MANIFEST))) return "resumable";
  return "fresh";
}

/**
 * How far a run is, as a fraction of its planned epochs (`--epoch=` of its arguments): the epochs its
 * `log.csv` has rows for (one per epoch, after a header). 0 without a log or a planned epoch count.
 */
export async function runFraction(run: SweepRun): Promise<number> {
  const planned = Number(run.args.find((a) => a.startsWith("--epoch="))?.slice(8));
  if (!(planned > 0)) return 0;
  const text = await Deno.readTextFile(join(run.dir, "log.csv")).catch(() => "");
  const rows = text.split("\n").filter((l) => l.trim() !== "").length - 1;
  return Math.min(1, Math.max(0, rows) / planned);
}

/** A short name of a run for progress lines: `stl/emotion seed 1`. */
export function runLabel(run: Pick<SweepRun, "method" | "task" | "seed">): string {
  return `${run.method}${run.task ? `/${run.task}` : ""} seed ${run.seed}`;
}

/**
 * The `runner/main.ts` arguments that bring a run to its end from where it stands: null when it is
 * done, `run --resume --run=DIR` when it has a checkpoint (the run's config.json supplies every other
 * option, so the resumed run is the planned one), else the planned arguments in a clean directory
 * (a run killed before its first checkpoint leaves only config.json, which would block a fresh start).
 */
export async function launchArgs(run: SweepRun): Promise<string[] | null> {
  switch (await runState(run.dir)) {
    case "done":
      return null;
    case "resumable":
      return ["run", "--resume", `--run=${run.dir}`];
    case "fresh":
      await Deno.remove(run.dir, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      return run.args;
  }
}

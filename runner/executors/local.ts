/**
 * The local executor (the default): every run of the sweep in its own `deno run runner/main.ts`
 * process, `jobs` at a time on this machine. Runs already finished in the output directory are skipped
 * and interrupted ones resume from their last checkpoint (see `run_state.ts`).
 * @module
 */
import { launchArgs, runLabel, runState, type SweepRun } from "./run_state.ts";
import { progressText } from "./progress.ts";

/** Options of {@link runLocal}. */
export interface LocalOptions {
  /** Processes at once. */
  jobs: number;
  /** Progress lines (nothing when quiet). */
  log: (s: string) => void;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function runOne(run: SweepRun, args: string[]): Promise<number> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  });
  const t0 = performance.now();
  const out = await cmd.output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join(" | ");
    throw new Error(`run ${run.method} seed ${run.seed}${run.task ? ` (${run.task})` : ""} failed: ${err}`);
  }
  return (performance.now() - t0) / 1000;
}

/**
 * Bring every run to its end on this machine; throws on the first failed run. Runs already finished
 * are skipped and left out of the progress count, so the ETA covers only the work left.
 */
export async function runLocal(runs: SweepRun[], opts: LocalOptions): Promise<void> {
  const todo: SweepRun[] = [];
  for (const r of runs) if ((await runState(r.dir)) !== "done") todo.push(r);
  if (todo.length < runs.length) opts.log(`${runs.length - todo.length} runs already finished`);
  const t0 = performance.now();
  let done = 0;
  const queue = [...todo];
  const workers = Array.from({ length: Math.min(opts.jobs, todo.length) }, async () => {
    while (queue.length > 0) {
      const r = queue.shift()!;
      const args = await launchArgs(r);
      const sec = args ? await runOne(r, args) : 0;
      done++;
      const elapsed = (performance.now() - t0) / 1000;
      opts.log(`done ${runLabel(r)} in ${sec.toFixed(0)} s (${progressText(done, todo.length, elapsed)})`);
    }
  });
  await Promise.all(workers);
}

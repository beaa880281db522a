/**
 * Run directories and commands as report.md prints them. A comparison keeps every run under
 * `<out>/runs/<name>`, and the plan records `<out>` as an absolute path of the machine that ran it (often a
 * scratch directory that a reader never sees). The report names the runs relative to `<out>` instead, so it
 * reads the same wherever it was made, and a reader who has the comparison's directory finds each run in it.
 * results.json and runs.csv keep the paths as recorded: scripts open runs with them.
 * @module
 */

/** The folder of a comparison's directory that holds its runs: each run is `<out>/runs/<name>`. */
export const RUNS_FOLDER = "runs";

/** What joins the directories of one result that merges several runs (STL's one run per task of a seed). */
export const RUN_DIR_JOIN = ", ";

/** What stands for the comparison's directory in the commands report.md prints. */
export const OUT_PLACEHOLDER = "$OUT";

const RUN_PATH = new RegExp(`^(.+)/${RUNS_FOLDER}/[^/]+$`);

/**
 * The directory whose `runs/` holds every run (`<out>` of `<out>/runs/<name>`), or undefined when some run lies
 * elsewhere or the runs do not share one; then the report prints the paths as recorded. A run directory may
 * list several directories joined by {@link RUN_DIR_JOIN}.
 */
export function comparisonDir(runDirs: readonly string[]): string | undefined {
  let dir: string | undefined;
  for (const entry of runDirs) {
    for (const path of entry.split(RUN_DIR_JOIN)) {
      const m = RUN_PATH.exec(path);
      if (!m || (dir !== undefined && dir !== m[1])) return undefined;
      dir = m[1];
    }
  }
  return dir;
}

/** A recorded run directory (or ", "-joined list) relative to `dir`, the comparison's directory. */
export function relativeRunDir(runDir: string, dir: string): string {
  return runDir.split(RUN_DIR_JOIN).map((p) => p.slice(dir.length + 1)).join(RUN_DIR_JOIN);
}

/** A recorded command with each `<dir>/runs/` written as `$OUT/runs/`. */
export function placeholderCommand(command: string, dir: string): string {
  return command.replaceAll(`${dir}/${RUNS_FOLDER}/`, `${OUT_PLACEHOLDER}/${RUNS_FOLDER}/`);
}

/**
 * The comparison's own command line with its `--out` written as `--out=$OUT`: the recorded `--out=<dir>` when
 * the line has it, else the first `--out=` value (a comparison planned elsewhere, or with a relative `--out`,
 * then moved; its runs' `<dir>` is where it is now).
 */
export function placeholderCompareCommand(command: string, dir: string): string {
  const exact = `--out=${dir}`;
  const at = command.indexOf(exact);
  const end = at + exact.length;
  if (at >= 0 && (end === command.length || command[end] === " ")) {
    return command.slice(0, at) + `--out=${OUT_PLACEHOLDER}` + command.slice(end);
  }
  return command.replace(/--out=\S+/, `--out=${OUT_PLACEHOLDER}`);
}

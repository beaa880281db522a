/**
 * The sweep's progress line, the same for every executor: `k/N runs done, ETA ...`. The ETA assumes
 * the remaining work goes at the pace of the work so far (wall time since the start divided by the work
 * finished plus, where the executor can see it, the part done of runs still running), which already
 * accounts for runs in parallel and for queue waits; the local executor counts work by run size and by
 * what a resumed run had left.
 * @module
 */

/** Seconds as `42 s`, `3 min 5 s` or `2 h 10 min`. */
export function formatSeconds(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * `k/N runs done, ETA ...` (no ETA before this sitting has measured any work, none after the last run). `inFlight` is the
 * work done so far on runs still running, in runs (two runs half-way: 1): with several runs in parallel the
 * first ones finish while the others are part-way, and counting only finished runs would put the first ETAs
 * off by up to the number of parallel runs.
 */
export function progressText(
  done: number,
  total: number,
  elapsedSec: number,
  inFlight = 0,
  work?: { done: number; total: number },
): string {
  const head = `${done}/${total} runs done`;
  if (done === 0 || done >= total) return head;
  // With `work`, runs count by their size (see runWork) and `inFlight` is in the same units.
  const worked = (work?.done ?? done) + inFlight;
  // Nothing measured yet: the first run to end was resumed at its last epoch (its work was an earlier
  // sitting's), so there is no pace to extrapolate.
  if (!(worked > 0)) return head;
  const left = (work?.total ?? total) - worked;
  return `${head}, ETA ${formatSeconds((elapsedSec / worked) * Math.max(0, left))}`;
}

/**
 * A run's size for the ETA: the datasets it trains on (`--datasets=a,b`: 2; a single-task run: 1). A
 * comparison gives every multi-task run the same images per dataset, so a joint or alternating run on two
 * datasets sees twice the images of a single-task one.
 */
export function runWork(args: string[]): number {
  const list = args.find((a) => a.startsWith("--datasets="));
  return list ? Math.max(1, list.slice(11).split(",").filter(Boolean).length) : 1;
}

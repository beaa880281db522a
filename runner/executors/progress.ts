/**
 * The sweep's progress line, the same for every executor: `k/N runs done, ETA ...`. The ETA assumes
 * the remaining runs take as long per run as the work so far did (wall time since the start divided by
 * the runs finished plus, where the executor can see it, the part done of those still running), which
 * already accounts for runs in parallel and for queue waits.
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
 * `k/N runs done, ETA ...` (no ETA before the first run finishes, none after the last). `inFlight` is the
 * work done so far on runs still running, in runs (two runs half-way: 1): with several runs in parallel the
 * first ones finish while the others are part-way, and counting only finished runs would put the first ETAs
 * off by up to the number of parallel runs.
 */
export function progressText(done: number, total: number, elapsedSec: number, inFlight = 0): string {
  const head = `${done}/${total} runs done`;
  if (done === 0 || done >= total) return head;
  const worked = done + inFlight;
  return `${head}, ETA ${formatSeconds((elapsedSec / worked) * Math.max(0, total - worked))}`;
}

/**
 * Scale measurement of the SA-MTL weighting pipeline (confidence x density x distribution, hard
 * selection) on synthetic teacher outputs: N pseudo rows and N labelled rows, d = 128, C = 5 classes,
 * cluster_k = 4. For each N it prints the pipeline's wall time and the peak resident set size of the
 * process (Deno.memoryUsage().rss sampled every 20 ms from the main thread while a worker runs the
 * pipeline). Target: N = 100k in <= 60 s and < 2 GiB.
 *
 *     deno task bench:weighting                 # N = 10000 and 100000
 *     deno run -A bench/weighting_scale.ts 20000 --metric=mmd
 *
 * The arguments are the sizes N (default 10000 100000) and `--metric=emd|mmd` (the distribution factor's
 * metric, default emd), read as the toolkit's commands read flags (runner/cli.ts): `--help` lists them, and
 * a misspelt flag, a bad metric or a size that is not a positive integer is one `error:` line and exit
 * status 2. `--json` prints the rows as JSON (bench/_bench_json.ts) and the per-size lines on stderr.
 * @module
 */
import { saMtlTargets } from "../core/labels/mod.ts";
import { readSaMtlSettings } from "../methods/sa_mtl.ts";
import { Rng } from "../core/rng.ts";
import { bool, OptionError, type OptionSpec, str } from "../core/options.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { formatHelp, parseArgs, resolveOptions } from "../runner/cli.ts";
import { COMMON_OPTIONS } from "../runner/schema.ts";
import { benchJson } from "./_bench_json.ts";

const D = 128, C = 5, K = 4;

interface Job {
  n: number;
  metric: string;
}

/** One size's measurement (a row of `--json`). */
interface WeightingRow {
  n: number;
  d: number;
  classes: number;
  clusterK: number;
  metric: string;
  seconds: number;
  /** Peak resident set size of the process while the worker ran the pipeline, MiB. */
  peakRssMiB: number;
  rssBeforeMiB: number;
  keptFraction: number;
  meanWeight: number;
}

interface Done {
  n: number;
  seconds: number;
  keptFraction: number;
  meanWeight: number;
}

/** Synthetic teacher outputs: class-clustered features, logits that favour the row's cluster. */
function synth(n: number, seed: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: C }, () => Float32Array.from({ length: D }, () => rng.normal(0, 0.5)));
  const make = (m: number) => {
    const x = new Float32Array(m * D);
    const y = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      y[i] = rng.int(C);
      for (let c = 0; c < D; c++) x[i * D + c] = centres[y[i]][c] + rng.normal();
    }
    return { x, y };
  };
  const pseudo = make(n);
  const labelled = make(n);
  const logits = new Float32Array(n * C);
  const probs = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    let m = -Infinity, s = 0;
    for (let c = 0; c < C; c++) {
      logits[i * C + c] = rng.normal() + (c === pseudo.y[i] ? 1.5 : 0);
      m = Math.max(m, logits[i * C + c]);
    }
    for (let c = 0; c < C; c++) s += Math.exp(logits[i * C + c] - m);
    for (let c = 0; c < C; c++) probs[i * C + c] = Math.exp(logits[i * C + c] - m) / s;
  }
  return { logits, probs, features: pseudo.x, labelledFeatures: labelled.x };
}

function runJob(job: Job): Done {
  const data = synth(job.n, 1);
  const settings = readSaMtlSettings({
    is_pesudo_confidence: true,
    is_pesudo_density: true,
    is_pesudo_distribution: true,
    cluster_k: K,
    distribution_metric: job.metric,
  }, false);
  const t0 = performance.now();
  const set = saMtlTargets({ classes: C, d: D, ...data }, { settings, rng: new Rng(2) });
  const seconds = (performance.now() - t0) / 1000;
  return {
    n: job.n,
    seconds,
    keptFraction: set.stats?.kept_fraction ?? 0,
    meanWeight: set.stats?.mean_weight ?? 0,
  };
}

/** Flags of `deno task bench:weighting` (the sizes N are positional arguments). */
export const WEIGHTING_SCALE_OPTIONS: OptionSpec[] = [
  {
    name: "metric",
    type: "enum",
    default: "emd",
    choices: ["emd", "mmd"],
    help: "Distance of a pseudo feature cluster to the labelled set (SA-MTL's --distribution_metric).",
  },
  ...COMMON_OPTIONS.filter((o) => ["json", "help"].includes(o.name)),
];

/** One-line usage of `deno task bench:weighting` (the head of its `--help`). */
const USAGE =
  "deno task bench:weighting [N...] [--metric=emd|mmd] [--json]: SA-MTL weighting time and peak RSS " +
  "at N pseudo and N labelled rows (default N: 10000 100000)";

/** The sizes N given as arguments (default 10k and 100k); each must be a positive integer. */
function readSizes(positionals: string[]): number[] {
  if (positionals.length === 0) return [10_000, 100_000];
  return positionals.map((p) => {
    const n = Number(p);
    if (p.trim() === "" || !Number.isInteger(n) || n < 1) {
      throw new OptionError(`N: got "${p}", expected a positive integer (rows; flags start with --)`);
    }
    return n;
  });
}

/**
 * `deno task bench:weighting [N...] [--metric=emd|mmd]`; returns the exit code (0). Bad arguments throw an
 * OptionError (exit 2 under {@link exitCodeOf}); a failure while measuring is thrown as is.
 */
export async function weightingScaleMain(args: string[]): Promise<number> {
  // Flags as parseCommandArgs reads them, but positional arguments are the sizes, not typos.
  const parsed = parseArgs(args, WEIGHTING_SCALE_OPTIONS);
  for (const w of parsed.warnings) console.error(`warning: ${w}`);
  const o = resolveOptions(WEIGHTING_SCALE_OPTIONS, [], parsed.options);
  const json = bool(o, "json");
  if (o.help) {
    const defaults = resolveOptions(WEIGHTING_SCALE_OPTIONS, [], {});
    console.log(
      formatHelp(USAGE, [{ heading: "Flags", specs: WEIGHTING_SCALE_OPTIONS }], defaults, { json }),
    );
    return 0;
  }
  const metric = str(o, "metric");
  const sizes = readSizes(parsed.positionals);
  const rows: WeightingRow[] = [];
  for (const n of sizes) {
    const before = Deno.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 20);
    const worker = new Worker(import.meta.url, { type: "module" });
    const done = await new Promise<Done>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<Done>) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
      worker.postMessage({ n, metric } satisfies Job);
    });
    clearInterval(timer);
    peak = Math.max(peak, Deno.memoryUsage().rss);
    worker.terminate();
    const mib = (b: number) => b / 2 ** 20;
    const row: WeightingRow = {
      n,
      d: D,
      classes: C,
      clusterK: K,
      metric,
      seconds: done.seconds,
      peakRssMiB: mib(peak),
      rssBeforeMiB: mib(before),
      keptFraction: done.keptFraction,
      meanWeight: done.meanWeight,
    };
    rows.push(row);
    // With --json stdout carries the document only; each size's line still shows progress on stderr.
    (json ? console.error : console.log)(
      `N=${n} d=${D} C=${C} k=${K} metric=${metric}: ${row.seconds.toFixed(2)} s, peak RSS ${
        row.peakRssMiB.toFixed(0)
      } MiB ` +
        `(process before ${row.rssBeforeMiB.toFixed(0)} MiB), kept ${
          (row.keptFraction * 100).toFixed(1)
        } %, ` +
        `mean weight ${row.meanWeight.toFixed(3)}`,
    );
  }
  if (json) console.log(benchJson("weighting", { rows }));
  return 0;
}

const isWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";

if (isWorker) {
  const scope = self as unknown as Worker;
  scope.onmessage = (e: MessageEvent<Job>) => scope.postMessage(runJob(e.data));
} else if (import.meta.main) {
  Deno.exit(await exitCodeOf(weightingScaleMain, Deno.args));
}

/**
 * Scale measurement of the SA-MTL weighting pipeline (confidence x density x distribution, hard
 * selection) on synthetic teacher outputs: N pseudo rows and N labelled rows, d = 128, C = 5 classes,
 * cluster_k = 4. For each N it prints the pipeline's wall time and the peak resident set size of the
 * process (Deno.memoryUsage().rss sampled every 20 ms from the main thread while a worker runs the
 * pipeline). Target: N = 100k in <= 60 s and < 2 GiB.
 *
 *     deno task bench:weighting                 # N = 10000 and 100000
 *     deno run -A bench/weighting_scale.ts 20000 --metric=mmd
 * @module
 */
import { saMtlTargets } from "../core/labels/mod.ts";
import { readSaMtlSettings } from "../methods/sa_mtl.ts";
import { Rng } from "../core/rng.ts";

const D = 128, C = 5, K = 4;

interface Job {
  n: number;
  metric: string;
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

const isWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";

if (isWorker) {
  const scope = self as unknown as Worker;
  scope.onmessage = (e: MessageEvent<Job>) => scope.postMessage(runJob(e.data));
} else if (import.meta.main) {
  const metric = Deno.args.find((a) => a.startsWith("--metric="))?.slice(9) ?? "emd";
  const sizes = Deno.args.filter((a) => !a.startsWith("--")).map(Number);
  for (const n of sizes.length > 0 ? sizes : [10_000, 100_000]) {
    if (!(n >= 1 && Number.isInteger(n))) throw new Error(`weighting_scale: bad N ${n}`);
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
    const mib = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(
      `N=${n} d=${D} C=${C} k=${K} metric=${metric}: ${done.seconds.toFixed(2)} s, peak RSS ${
        mib(peak)
      } MiB ` +
        `(process before ${mib(before)} MiB), kept ${(done.keptFraction * 100).toFixed(1)} %, ` +
        `mean weight ${done.meanWeight.toFixed(3)}`,
    );
  }
}

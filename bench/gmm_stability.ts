/**
 * `deno task bench:gmm`: how much SA-MTL's distribution factor depends on the mixture initialisation.
 * On random Gaussian-mixture features (n = 300-2,000 pseudo rows, d = 8-32, 3-7 classes, k = 4
 * components, a labelled set drawn from the same classes shifted a little), the factor is computed with
 * two fit seeds and the row-level Spearman correlation of the two delta vectors is taken. Reported per
 * setting: a single fit, `--gmm_n_init` (best of several initialisations, as scikit-learn's `n_init`) and
 * `--distribution_restarts` (delta averaged over independent fits). `--json` prints the rows.
 *
 *   deno task bench:gmm [--cases=12] [--json] [--help]
 *
 * Flags are read as the toolkit's commands read them (runner/cli.ts): `--help` lists them (`--help --json`
 * as JSON); a misspelt flag or a bad value is one `error:` line and exit status 2.
 * @module
 */
import { Rng } from "../core/rng.ts";
import { distributionFactor } from "../core/labels/distribution.ts";
import { bool, num, type OptionSpec } from "../core/options.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { benchJson } from "./_bench_json.ts";
import { parseCommandArgs } from "../runner/cli.ts";
import { COMMON_OPTIONS } from "../runner/schema.ts";

/** Ranks (1-based, ties averaged). */
export function ranks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation (NaN when one side is constant). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a), rb = ranks(b);
  const n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n, mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

function mixture(rng: Rng, n: number, d: number, centers: Float64Array, classes: number, shift: number) {
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(classes);
    for (let j = 0; j < d; j++) x[i * d + j] = centers[c * d + j] + shift + rng.normal();
  }
  return x;
}

const median = (v: number[]) => {
  const s = [...v].filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN;
};

/** Flags of `deno task bench:gmm`. */
export const GMM_STABILITY_OPTIONS: OptionSpec[] = [
  {
    name: "cases",
    type: "int",
    default: 12,
    min: 1,
    help: "Random mixtures per setting (n 300-2000, d 8-32, 3-7 classes, cycling).",
  },
  ...COMMON_OPTIONS.filter((o) => ["json", "help"].includes(o.name)),
];

/** One-line usage of `deno task bench:gmm` (the head of its `--help`). */
const USAGE = "deno task bench:gmm [--cases=12] [--json]: seed stability of SA-MTL's distribution factor";

/**
 * `deno task bench:gmm`; returns the exit code (0). Bad flags throw an OptionError (exit 2 under
 * {@link exitCodeOf}).
 */
export function gmmStabilityMain(args: string[]): number {
  const o = parseCommandArgs(args, GMM_STABILITY_OPTIONS, USAGE);
  if (!o) return 0;
  const cases = num(o, "cases");
  const settings = [
    { name: "single fit", nInit: 1, restarts: 1 },
    { name: "n_init 5", nInit: 5, restarts: 1 },
    { name: "n_init 10", nInit: 10, restarts: 1 },
    { name: "restarts 5", nInit: 1, restarts: 5 },
    { name: "restarts 10", nInit: 1, restarts: 10 },
    { name: "n_init 5 x restarts 5", nInit: 5, restarts: 5 },
    { name: "n_init 10 x restarts 10", nInit: 10, restarts: 10 },
    { name: "restarts 20", nInit: 1, restarts: 20 },
  ];
  const gen = new Rng("gmm-stability");
  const data = Array.from({ length: cases }, (_, c) => {
    const n = [300, 800, 2000][c % 3];
    const d = [8, 16, 32][Math.floor(c / 3) % 3];
    const classes = 3 + (c % 5);
    const centers = Float64Array.from({ length: classes * d }, () => gen.normal(0, 2));
    return {
      n,
      d,
      classes,
      pseudo: mixture(gen, n, d, centers, classes, 0.3),
      labelled: mixture(gen, Math.round(n * 0.8), d, centers, classes, 0),
    };
  });
  const rows = [];
  for (const s of settings) {
    const rhos: number[] = [];
    const t0 = performance.now();
    for (const [i, c] of data.entries()) {
      const fit = (seed: number) =>
        distributionFactor(c.pseudo, c.labelled, {
          d: c.d,
          k: 4,
          rng: new Rng(`case${i}:seed${seed}`),
          nInit: s.nInit,
          restarts: s.restarts,
        }).delta;
      rhos.push(spearman(fit(1), fit(2)));
    }
    const ms = (performance.now() - t0) / (2 * data.length);
    rows.push({
      setting: s.name,
      nInit: s.nInit,
      restarts: s.restarts,
      medianSpearman: median(rhos),
      minSpearman: Math.min(...rhos.filter(Number.isFinite)),
      msPerFactor: ms,
    });
  }
  if (bool(o, "json")) console.log(benchJson("gmm", { cases, rows }));
  else {
    console.log(
      `${cases} cases (n 300-2000, d 8-32, 3-7 classes, k 4); Spearman of delta between two fit seeds`,
    );
    console.log("| setting | median rho | min rho | ms per factor |\n| --- | ---: | ---: | ---: |");
    for (const r of rows) {
      console.log(
        `| ${r.setting} | ${r.medianSpearman.toFixed(3)} | ${r.minSpearman.toFixed(3)} | ${
          r.msPerFactor.toFixed(0)
        } |`,
      );
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await exitCodeOf((a) => Promise.resolve(gmmStabilityMain(a)), Deno.args));

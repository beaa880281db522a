/**
 * Benchmarks of the label-weighting building blocks on synthetic teacher outputs (d = 128, C = 5).
 * The N = 10k / 100k scale run is `deno task bench:weighting` (bench/weighting_scale.ts).
 * @module
 */
import {
  distributionFactor,
  emdOneToMany,
  fitGmm,
  localDensity,
  pseudoLabels,
  saMtlTargets,
  softmaxRows,
} from "../core/labels/mod.ts";
import { readSaMtlSettings } from "../methods/sa_mtl.ts";
import { Rng } from "../core/rng.ts";

const D = 128, C = 5, N = 4000;
const rng = new Rng(1);
const centres = Array.from({ length: C }, () => Float32Array.from({ length: D }, () => rng.normal(0, 0.5)));
const labels = Int32Array.from({ length: N }, () => rng.int(C));
const features = new Float32Array(N * D);
for (let i = 0; i < N; i++) {
  for (let c = 0; c < D; c++) features[i * D + c] = centres[labels[i]][c] + rng.normal();
}
const labelled = features.slice(0, (N / 2) * D);
const logits = Float32Array.from(
  { length: N * C },
  (_, j) => rng.normal() + (j % C === labels[Math.floor(j / C)] ? 1.5 : 0),
);
const probs = softmaxRows(logits, C);
const big = Float32Array.from({ length: 6000 * D }, () => rng.normal());

Deno.bench("softmaxRows + pseudoLabels (4000 x 5)", { group: "small" }, () => {
  pseudoLabels(softmaxRows(logits, C, { temperature: 2 }), C);
});

Deno.bench("localDensity exact (4000 rows, 5 classes of ~800)", { group: "density" }, () => {
  localDensity(features, labels, { d: D, classes: C, quantile: 0.6 });
});

Deno.bench("localDensity sampled (one class of 6000, s = 1024)", { group: "density" }, () => {
  localDensity(big, new Int32Array(6000), {
    d: D,
    classes: 1,
    quantile: 0.6,
    rng: new Rng(3),
    exactMax: 2048,
  });
});

Deno.bench("fitGmm (2048 x 128, k = 4)", { group: "distribution" }, () => {
  fitGmm(features, D, { k: 4, rng: new Rng(4), maxFit: 2048 });
});

Deno.bench("distributionFactor emd (4000 pseudo, 2000 labelled)", { group: "distribution" }, () => {
  distributionFactor(features, labelled, { d: D, k: 4, rng: new Rng(5) });
});

Deno.bench("distributionFactor mmd (4000 pseudo, 2000 labelled)", { group: "distribution" }, () => {
  distributionFactor(features, labelled, { d: D, k: 4, rng: new Rng(5), metric: "mmd" });
});

Deno.bench("emdOneToMany (128-d, 4 targets)", { group: "small" }, () => {
  emdOneToMany(centres[0], features.subarray(0, 4 * D), {
    d: D,
    sourceMass: 0.3,
    targetMass: [0.1, 0.2, 0.3, 0.4],
  });
});

const settings = readSaMtlSettings({
  is_pesudo_confidence: true,
  is_pesudo_density: true,
  is_pesudo_distribution: true,
}, false);
Deno.bench("saMtlTargets, all factors, hard (4000 rows)", { group: "pipeline" }, () => {
  saMtlTargets({ classes: C, logits, probs, features, d: D, labelledFeatures: labelled }, {
    settings,
    rng: new Rng(6),
  });
});

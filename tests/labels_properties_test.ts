import { distilledStrategy, pseudoStrategy } from "../core/labels/mod.ts";
import { weightedPseudoStrategy } from "../methods/sa_mtl.ts";
import type { Options } from "../core/options.ts";
import { assertStrategyProperties } from "./_labels_asserts.ts";

const weighted: [string, Options][] = [
  ["pure", {}],
  ["distill only", { is_distilled: true, is_pesudo_confidence: true }],
  ["confidence hard quantile distill", { is_pesudo_confidence: true, selection_threshold: 0.5 }],
  ["confidence hard absolute zero", {
    is_pesudo_confidence: true,
    selection_mode: "absolute",
    selection_threshold: 0.6,
    reject: "zero",
  }],
  ["density hard", { is_pesudo_density: true, density_t: 0.6, selection_threshold: 0.3 }],
  ["density approximate", { is_pesudo_density: true, density_exact_max: 10, density_samples: 8 }],
  ["distribution emd", { is_pesudo_distribution: true, cluster_k: 3, gmm_max_fit: 50 }],
  ["distribution mmd", { is_pesudo_distribution: true, distribution_metric: "mmd", cluster_k: 3 }],
  ["all factors soft ep", {
    is_pesudo_confidence: true,
    is_pesudo_density: true,
    is_pesudo_distribution: true,
    is_interpolation: true,
  }],
  ["all factors soft lambda", {
    is_pesudo_confidence: true,
    is_pesudo_density: true,
    is_pesudo_distribution: true,
    is_interpolation: true,
    interpolation_mode: "lambda",
    interpolation_weights: 0.3,
  }],
];

Deno.test("label strategies share the TorchJD-style properties", async (t) => {
  await t.step("distilled", () => assertStrategyProperties(distilledStrategy, { distill_t: 2 }));
  await t.step(
    "distilled compat",
    () => assertStrategyProperties(distilledStrategy, { distill_t: 1 }, { compat: true }),
  );
  await t.step("pseudo scaled", () => assertStrategyProperties(pseudoStrategy, { pseudo_target: "scaled" }));
  await t.step("pseudo onehot", () => assertStrategyProperties(pseudoStrategy, { pseudo_target: "onehot" }));
  for (const [name, options] of weighted) {
    await t.step(`weighted-pseudo ${name}`, () => assertStrategyProperties(weightedPseudoStrategy, options));
  }
  await t.step(
    "weighted-pseudo compat",
    () =>
      assertStrategyProperties(weightedPseudoStrategy, {
        is_pesudo_confidence: true,
        is_pesudo_density: true,
      }, {
        compat: true,
      }),
  );
});

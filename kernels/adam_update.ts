/**
 * A kernel the pack adds (no tfjs equivalent): one Adam step of one variable, [x, g, m, v] →
 * [x', m', v'], in one pass (SIMD and threaded on wasm, JS on cpu), where tfjs' AdamOptimizer runs
 * 14 element-wise kernels per variable (about 700 calls in a mini-Xception step, a sixth of its time
 * on wasm). The arithmetic is tfjs 4.22's, in f32 and in the same order, so the values are
 * bit-identical to the stock optimizer (tests/kernels_test.ts checks it over several steps).
 * {@link installPackAdam} routes `tf.train.adam` optimizers to it while the pack is active.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { type AdamGrads, type AdamInternals, adamSlots, installAdamRoute } from "./_adam_route.ts";
import { kernelIo } from "./_io.ts";
import { simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";

/** Kernel name in the tfjs registry (namespaced: not a tfjs kernel). */
export const kernelName = "SaMtlCpuAdamUpdate";

/**
 * Inputs x, g, m, v (same shape, float32); attrs beta1, beta2, learningRate, epsilon and the bias
 * corrections c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ as the f32 values tfjs computes. Returns [x', m', v'].
 */
export const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, g, m, v } = inputs as Record<string, TensorInfo>;
  const a = attrs as NamedAttrMap as Record<string, number>;
  const io = kernelIo(backend as never);
  const n = x.shape.reduce((p, d) => p * d, 1);
  const outs = [0, 1, 2].map(() => io.alloc(x.shape, "float32", false));
  const f = Math.fround;
  const k = [
    f(a.beta1),
    f(1 - a.beta1),
    f(a.beta2),
    f(1 - a.beta2),
    f(a.c1),
    f(a.c2),
    f(-a.learningRate),
    f(a.epsilon),
  ];
  const simd = simdKernels(backend as never);
  if (simd) {
    const p = simd.ptr;
    runThreaded(simd.fns, "adamUpdate", [p(x), p(g), p(m), p(v), ...outs.map(p), n, ...k], 4 * n);
    return outs;
  }
  const [b1, omb1, b2, omb2, c1, c2, negLr, eps] = k;
  const [xv, gv, mv, vv] = [x, g, m, v].map((t) => io.floats(t));
  const [xo, mo, vo] = outs.map((t) => io.floats(t));
  for (let i = 0; i < n; i++) {
    const gi = gv[i];
    const m1 = f(f(mv[i] * b1) + f(gi * omb1));
    const v1 = f(f(vv[i] * b2) + f(f(gi * gi) * omb2));
    mo[i] = m1;
    vo[i] = v1;
    xo[i] = f(f(f(f(m1 / c1) / f(f(Math.sqrt(f(v1 / c2))) + eps)) * negLr) + xv[i]);
  }
  return outs;
};

/** One fused Adam step of every variable; the accumulated β variables advance as tfjs' do. */
function fusedApply(self: AdamInternals, grads: AdamGrads): void {
  tf.tidy(() => {
    const f = Math.fround;
    // tfjs: oneMinusAccBeta = sub(1, accBeta) in f32 (exact in f64, then rounded).
    const acc1 = self.accBeta1.dataSync()[0];
    const acc2 = self.accBeta2.dataSync()[0];
    const attrs = {
      beta1: self.beta1,
      beta2: self.beta2,
      learningRate: self.learningRate,
      epsilon: self.epsilon,
      c1: f(1 - acc1),
      c2: f(1 - acc2),
    };
    for (const { value, gradient, m, v } of adamSlots(self, grads)) {
      const [x1, m1, v1] = tf.engine().runKernel(
        kernelName,
        { x: value, g: gradient, m, v },
        attrs,
      ) as tf.Tensor[];
      m.assign(m1);
      v.assign(v1);
      value.assign(x1);
    }
    self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
    self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
  });
  self.incrementIterations();
}

/** Routes Adam to the fused kernel while `active()` (the pack is registered on the current backend). */
export function installPackAdam(active: () => boolean): void {
  installAdamRoute("cpu-pack", active, fusedApply);
}

/**
 * Fused Adam update: one dispatch per variable computes the new value and both moments, where
 * tfjs' AdamOptimizer runs 14 element-wise kernels per variable (830 of the 1,713 dispatches of a
 * mini-Xception 48 px training step on webgpu). Same arithmetic, in the same order, as tfjs 4.22's
 * AdamOptimizer.applyGradients:
 *   m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2);
 *   x' = (m'/(1−β1ᵗ)) / (√(v'/(1−β2ᵗ)) + ε) · (−lr) + x
 * The bias corrections come from the iteration count (β1ᵗ = β1^(iterations+1), the value tfjs'
 * setWeights restores), so no GPU scalar is read back or updated per step.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { allocOutput, dispatch, type WebgpuBackendInternals, workgroups } from "./_dispatch.ts";

/** Kernel name in the tfjs registry (namespaced: not a tfjs kernel). */
export const kernelName = "SaMtlAdamUpdate";

const GROUP = 64;

const code = /* wgsl */ `
struct U { n: u32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
           biasCorr1: f32, biasCorr2: f32, negLr: f32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> m: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> xo: array<f32>;
@group(0) @binding(5) var<storage, read_write> mo: array<f32>;
@group(0) @binding(6) var<storage, read_write> vo: array<f32>;
@group(0) @binding(7) var<uniform> u: U;
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${GROUP}u;
  if (i >= u.n) { return; }
  let gi = g[i];
  let m1 = m[i] * u.beta1 + gi * u.oneMinusBeta1;
  let v1 = v[i] * u.beta2 + (gi * gi) * u.oneMinusBeta2;
  mo[i] = m1;
  vo[i] = v1;
  xo[i] = (m1 / u.biasCorr1) / (sqrt(v1 / u.biasCorr2) + u.eps) * u.negLr + x[i];
}`;

/**
 * Inputs x, g, m, v (same shape, float32); attrs beta1, beta2, learningRate, epsilon, iteration
 * (0-based update count). Returns [x', m', v'].
 */
export const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, g, m, v } = inputs as Record<string, TensorInfo>;
  const a = attrs as NamedAttrMap as Record<string, number>;
  const b = backend as unknown as WebgpuBackendInternals;
  const n = x.shape.reduce((p, d) => p * d, 1);
  const outs = [allocOutput(b, x.shape), allocOutput(b, x.shape), allocOutput(b, x.shape)];
  const t = a.iteration + 1;
  dispatch(b, {
    key: `${kernelName}`,
    code,
    tensors: [x, g, m, v, ...outs],
    uniforms: [
      { type: "uint32", data: [n] },
      ...[
        a.beta1,
        1 - a.beta1,
        a.beta2,
        1 - a.beta2,
        1 - a.beta1 ** t,
        1 - a.beta2 ** t,
        -a.learningRate,
        a.epsilon,
      ]
        .map((d) => ({ type: "float32" as const, data: [d] })),
    ],
    groups: workgroups(b.device, n, GROUP),
  });
  return outs;
};

/**
 * Fused training-mode batch norm for WebGPU, per channel of the last axis. tfjs-layers computes it
 * from tf.moments (Mean, Sub, Square, Mean), FusedBatchNorm and a moving-average update (Sub,
 * Multiply, Sub per statistic): 11 dispatches forward, and its gradient, through FusedBatchNorm's
 * and the moments' gradients, about 25 more. Here:
 * - SaMtlBatchNormStats: batch mean and (biased) variance, two passes in one workgroup per channel,
 *   with the moving-average updates m − (m − s)·(1 − momentum) as two more outputs (1 dispatch);
 * - the normalisation is tfjs' own FusedBatchNorm (1 dispatch);
 * - SaMtlBatchNormGradReduce: Σdy and Σdy·x̂ per channel (1 dispatch);
 * - SaMtlBatchNormGradInput: dx = γ·σ⁻¹/N · (N·dy − Σdy − x̂·Σdy·x̂) (1 dispatch),
 * the whole gradient of the batch-normalised output with respect to x, γ and β (the batch statistics
 * included, as tfjs differentiates through tf.moments).
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { allocOutput, dispatch, type WebgpuBackendInternals, workgroups } from "./_dispatch.ts";
import { rowsAndChannels } from "../_geometry.ts";

import { GRAD_INPUT, GRAD_REDUCE, STATS } from "../_fused_bn_layer.ts";
export { GRAD_INPUT, GRAD_REDUCE, STATS };

const WG = 256;

/** Two-level tree reduction of `part` within a workgroup of WG threads (all threads call it). */
const reduceFn = (name: string) => /* wgsl */ `
fn ${name}(t: u32, v: f32) -> f32 {
  part[t] = v;
  workgroupBarrier();
  for (var k = ${WG / 2}u; k > 0u; k = k >> 1u) {
    if (t < k) { part[t] = part[t] + part[t + k]; }
    workgroupBarrier();
  }
  let r = part[0];
  workgroupBarrier();
  return r;
}`;

const statsCode = /* wgsl */ `
struct U { rows: u32, c: u32, decay: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> mm: array<f32>;
@group(0) @binding(2) var<storage, read> mv: array<f32>;
@group(0) @binding(3) var<storage, read_write> meanOut: array<f32>;
@group(0) @binding(4) var<storage, read_write> varOut: array<f32>;
@group(0) @binding(5) var<storage, read_write> mmOut: array<f32>;
@group(0) @binding(6) var<storage, read_write> mvOut: array<f32>;
@group(0) @binding(7) var<uniform> u: U;
var<workgroup> part: array<f32, ${WG}>;
${reduceFn("wgSum")}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let ch = wid.x;
  let t = lid.x;
  var s = 0.0;
  for (var r = t; r < u.rows; r = r + ${WG}u) { s = s + x[r * u.c + ch]; }
  let mean = wgSum(t, s) / f32(u.rows);
  var q = 0.0;
  for (var r = t; r < u.rows; r = r + ${WG}u) { let d = x[r * u.c + ch] - mean; q = q + d * d; }
  let variance = wgSum(t, q) / f32(u.rows);
  if (t == 0u) {
    meanOut[ch] = mean;
    varOut[ch] = variance;
    mmOut[ch] = mm[ch] - (mm[ch] - mean) * u.decay;
    mvOut[ch] = mv[ch] - (mv[ch] - variance) * u.decay;
  }
}`;

const gradReduceCode = /* wgsl */ `
struct U { rows: u32, c: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> variance: array<f32>;
@group(0) @binding(4) var<storage, read_write> dscale: array<f32>;
@group(0) @binding(5) var<storage, read_write> doffset: array<f32>;
@group(0) @binding(6) var<uniform> u: U;
var<workgroup> part: array<f32, ${WG}>;
${reduceFn("wgSum")}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let ch = wid.x;
  let t = lid.x;
  let m = mean[ch];
  let inv = inverseSqrt(variance[ch] + u.eps);
  var sd = 0.0;
  var sdx = 0.0;
  for (var r = t; r < u.rows; r = r + ${WG}u) {
    let i = r * u.c + ch;
    sd = sd + dy[i];
    sdx = sdx + dy[i] * (x[i] - m) * inv;
  }
  let a = wgSum(t, sd);
  let b = wgSum(t, sdx);
  if (t == 0u) {
    doffset[ch] = a;
    dscale[ch] = b;
  }
}`;

const GROUP = 64;
const gradInputCode = /* wgsl */ `
struct U { n: u32, c: u32, rows: f32, eps: f32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> variance: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read> dscale: array<f32>;
@group(0) @binding(6) var<storage, read> doffset: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
@group(0) @binding(8) var<uniform> u: U;
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${GROUP}u;
  if (i >= u.n) { return; }
  let ch = i % u.c;
  let inv = inverseSqrt(variance[ch] + u.eps);
  let xhat = (x[i] - mean[ch]) * inv;
  dx[i] = scale[ch] * inv / u.rows * (u.rows * dy[i] - doffset[ch] - xhat * dscale[ch]);
}`;

/** Inputs x ([..., C]), movingMean, movingVariance ([C]); attr momentum. Returns [mean, variance, movingMean', movingVariance']. */
export const statsKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, movingMean, movingVariance } = inputs as Record<string, TensorInfo>;
  const b = backend as unknown as WebgpuBackendInternals;
  const [rows, c] = rowsAndChannels(x.shape);
  const outs = [0, 1, 2, 3].map(() => allocOutput(b, [c]));
  dispatch(b, {
    key: STATS,
    code: statsCode,
    tensors: [x, movingMean, movingVariance, ...outs],
    uniforms: [
      { type: "uint32", data: [rows] },
      { type: "uint32", data: [c] },
      { type: "float32", data: [1 - ((attrs as NamedAttrMap).momentum as number)] },
    ],
    groups: [c, 1],
  });
  return outs;
};

/** Inputs dy, x ([..., C]), mean, variance ([C]); attr varianceEpsilon. Returns [dscale, doffset]. */
export const gradReduceKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, mean, variance } = inputs as Record<string, TensorInfo>;
  const b = backend as unknown as WebgpuBackendInternals;
  const [rows, c] = rowsAndChannels(x.shape);
  const outs = [allocOutput(b, [c]), allocOutput(b, [c])];
  dispatch(b, {
    key: GRAD_REDUCE,
    code: gradReduceCode,
    tensors: [dy, x, mean, variance, ...outs],
    uniforms: [
      { type: "uint32", data: [rows] },
      { type: "uint32", data: [c] },
      { type: "float32", data: [(attrs as NamedAttrMap).varianceEpsilon as number] },
    ],
    groups: [c, 1],
  });
  return outs;
};

/** Inputs dy, x ([..., C]), mean, variance, scale, dscale, doffset ([C]); attr varianceEpsilon. Returns dx. */
export const gradInputKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, mean, variance, scale, dscale, doffset } = inputs as Record<string, TensorInfo>;
  const b = backend as unknown as WebgpuBackendInternals;
  const [rows, c] = rowsAndChannels(x.shape);
  const n = rows * c;
  const dx = allocOutput(b, x.shape);
  dispatch(b, {
    key: GRAD_INPUT,
    code: gradInputCode,
    tensors: [dy, x, mean, variance, scale, dscale, doffset, dx],
    uniforms: [
      { type: "uint32", data: [n] },
      { type: "uint32", data: [c] },
      { type: "float32", data: [rows] },
      { type: "float32", data: [(attrs as NamedAttrMap).varianceEpsilon as number] },
    ],
    groups: workgroups(b.device, n, GROUP),
  });
  return dx;
};

/** The three kernels, for the pack's registry. */
export const BATCH_NORM_KERNELS = [
  { kernelName: STATS, kernelFunc: statsKernel },
  { kernelName: GRAD_REDUCE, kernelFunc: gradReduceKernel },
  { kernelName: GRAD_INPUT, kernelFunc: gradInputKernel },
];

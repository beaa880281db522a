/**
 * Hot kernels of a mini-Xception 64×64 batch-32 training step on wasm + kernel pack (SIMD module on
 * and off), plus the wasm GEMM they build on. `deno bench -A bench/kernels.bench.ts`
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { registerKernelPack, setSimdKernelsEnabled } from "../kernels/mod.ts";

registerKernelPack("wasm");
await tf.setBackend("wasm");

const rand = (shape: number[]) => tf.randomNormal(shape, 0, 1, "float32", 3);
const x60 = rand([32, 60, 60, 16]);
const x62 = rand([32, 62, 62, 8]);
const dy60x8 = rand([32, 60, 60, 8]);
const w3 = rand([3, 3, 8, 8]);
const dw3 = rand([3, 3, 16, 1]);
const vec16 = rand([16]);
const pooled = rand([32, 30, 30, 16]);
const a512 = rand([512, 512]);

function run(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): void {
  const out = tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor;
  out.dataSync();
  out.dispose();
}

const conv = {
  strides: [1, 1],
  pad: "valid",
  dataFormat: "NHWC",
  dilations: [1, 1],
  dimRoundingMode: undefined,
};
const dconv = { strides: [1, 1], pad: "same", dilations: [1, 1], dimRoundingMode: undefined };

for (const simd of [true, false]) {
  const group = simd ? "pack, SIMD module" : "pack without SIMD module (JS, or stock wasm for Sum/Multiply)";
  const b = (name: string, f: () => void) =>
    Deno.bench(`${name} [${group}]`, { group: name }, () => {
      setSimdKernelsEnabled(simd);
      f();
    });
  b(
    "Conv2DBackpropFilter 62x62x8 -> 3x3x8x8",
    () => run("Conv2DBackpropFilter", { x: x62, dy: dy60x8 }, { ...conv, filterShape: [3, 3, 8, 8] }),
  );
  b(
    "Conv2DBackpropInput 60x60x8 <- 3x3x8x8",
    () => run("Conv2DBackpropInput", { dy: dy60x8, filter: w3 }, { ...conv, inputShape: [32, 62, 62, 8] }),
  );
  b(
    "DepthwiseConv2dNativeBackpropFilter 60x60x16",
    () =>
      run("DepthwiseConv2dNativeBackpropFilter", { x: x60, dy: x60 }, {
        ...dconv,
        filterShape: [3, 3, 16, 1],
      }),
  );
  b(
    "DepthwiseConv2dNativeBackpropInput 60x60x16",
    () =>
      run("DepthwiseConv2dNativeBackpropInput", { dy: x60, filter: dw3 }, {
        ...dconv,
        inputShape: [32, 60, 60, 16],
      }),
  );
  b("MaxPoolGrad 3x3/2 same 60x60x16", () =>
    run("MaxPoolGrad", { dy: pooled, input: x60, output: pooled }, {
      filterSize: [3, 3],
      strides: [2, 2],
      pad: "same",
      dimRoundingMode: undefined,
    }));
  b("Sum over N,H,W of 32x60x60x16", () => run("Sum", { x: x60 }, { axis: [0, 1, 2], keepDims: false }));
  b("Multiply 32x60x60x16 by [16]", () => run("Multiply", { a: x60, b: vec16 }, {}));
}

Deno.bench("BatchMatMul 512^3 (XNNPACK, peak reference)", { group: "gemm" }, () => {
  const c = tf.matMul(a512, a512);
  c.dataSync();
  c.dispose();
});

/**
 * Conv2D and FusedConv2D (bias and ReLU/linear only) on wasm through pack.wasm's direct
 * convolution, which runs on the pack's threads (XNNPACK's runs on one). Other cases (output
 * channels not a multiple of 8, other activations, PReLU weights) go to the stock kernels.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { convGeometry } from "./_geometry.ts";
import { callStock } from "./_stock.ts";
import { simdKernels } from "./_simd.ts";
import { convDirect, fitsConvDirect } from "./_conv_direct.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "Conv2D";

/** The shared body of Conv2D and FusedConv2D. */
export function directOrStock(name: string): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const a = args.attrs as NamedAttrMap;
    const activation = (a.activation as string | undefined) ?? "linear";
    const simd = x && filter && x.dtype === "float32" && filter.dtype === "float32"
      ? simdKernels(args.backend as never)
      : null;
    const biasOk = !bias ||
      (bias.dtype === "float32" && bias.shape.reduce((p, d) => p * d, 1) === filter!.shape[3] &&
        bias.shape.slice(0, -1).every((d) => d === 1));
    if (
      !simd || !x || !filter || preluActivationWeights || !biasOk ||
      (activation !== "linear" && activation !== "relu")
    ) {
      return callStock(name, args);
    }
    const g = convGeometry(x.shape, filter.shape, { attrs: a, kernel: name });
    if (!fitsConvDirect(g)) return callStock(name, args);
    return convDirect(kernelIo(args.backend as never), simd, g, {
      x,
      filter,
      bias,
      relu: activation === "relu",
    });
  };
}

/** y = conv(x, filter). */
export const kernelFunc: KernelFunc = directOrStock(kernelName);

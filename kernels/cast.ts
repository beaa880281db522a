/**
 * Cast on wasm: a cast to the tensor's own dtype (tfjs-layers casts float32 activations to float32)
 * shares the data instead of copying it; real conversions go to the stock kernel.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { callStock } from "./_stock.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "Cast";

/** Same dtype: out shares x's data; otherwise the stock kernel. */
export const kernelFunc: KernelFunc = (args) => {
  const x = args.inputs.x as TensorInfo;
  const dtype = (args.attrs as NamedAttrMap).dtype;
  if (dtype !== x.dtype || x.dtype === "string") {
    return callStock(kernelName, args);
  }
  (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

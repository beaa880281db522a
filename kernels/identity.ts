/**
 * Identity on wasm without a copy: the stock kernel copies the whole tensor on the heap; sharing
 * the data with a reference count (as wasm's own Reshape does) is enough because tensors are
 * immutable.
 * @module
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";

/** Kernel name in the tfjs registry. */
export const kernelName = "Identity";

/** out shares x's data. */
export const kernelFunc: KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as TensorInfo;
  (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

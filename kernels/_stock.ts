/**
 * The stock kernels the pack replaced, so a pack kernel can hand the cases it does not speed up
 * (other dtypes, other broadcast patterns) back to the backend's own implementation.
 * @module
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";

const stockFuncs = new Map<string, KernelFunc>();

/** Records a stock kernel before the pack replaces it (called by registerKernelPack). */
export function rememberStock(config: KernelConfig): void {
  stockFuncs.set(`${config.backendName}/${config.kernelName}`, config.kernelFunc);
}

/** Runs the stock kernel that the pack replaced; throws when there is none. */
export function callStock(kernelName: string, args: Parameters<KernelFunc>[0]): TensorInfo {
  const backendName = kernelIo(args.backend as never).backendName;
  const f = stockFuncs.get(`${backendName}/${kernelName}`);
  if (!f) throw new Error(`kernel pack: no stock ${kernelName} kernel on backend '${backendName}'`);
  return f(args) as TensorInfo;
}

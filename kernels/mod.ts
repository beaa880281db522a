/**
 * The kernel pack: training kernels that tfjs 4.22's wasm backend lacks, gets wrong or runs slowly,
 * registered from user code onto the `wasm` backend (default CPU engine) or the `cpu` backend
 * (fallback). The kernels replace backend internals, so registration refuses any other tfjs version.
 *
 * | kernel | wasm problem | pack implementation |
 * |---|---|---|
 * | Conv2DBackpropFilter | missing | im2colᵀ (SIMD module) + XNNPACK GEMM, chunked over the batch |
 * | Conv2DBackpropInput | naive C++ loop | stride 1: one XNNPACK forward conv with the flipped filter; else GEMM + col2im |
 * | DepthwiseConv2dNativeBackpropFilter / Input | missing | SIMD loops (JS for channel multiplier > 1) |
 * | MaxPoolGrad | wrong for windows of negatives | SIMD, first max in row-major order like cpu |
 * | Tile | slow | block copies |
 * | BatchMatMul | transposed operands take a slow loop | explicit transpose, then XNNPACK |
 * | Sum, Mean | leading-axes reductions transpose first | SIMD per-channel reduction |
 * | Multiply, Add, Sub, RealDiv | generic broadcasting | SIMD for a tensor ⊙ channel vector |
 * | FusedBatchNorm | generic broadcasting | SIMD x·a + b per channel |
 * | DepthwiseConv2dNative (3×3, stride 1) | one thread | SIMD gather with register sums, threaded |
 * | Conv2D, FusedConv2D (bias, ReLU; 8k output channels) | one thread | direct SIMD convolution, threaded |
 * | Identity, Cast (same dtype) | copy the tensor | share the data |
 * | SaMtlFusedBatchNormGrad (new) | – | the whole batch-norm backward in 2 passes |
 * | Relu, SaMtlReluGrad (new) | one thread; the gradient is Step, Cast and Multiply | SIMD, threaded; the gradient in one pass |
 * | SaMtlCpuAdamUpdate (new) | – | one Adam step of a variable in one pass, bit-identical to tfjs' 14 ops |
 * | SaMtlBatchNormStats / GradReduce / GradInput (new) + BatchNormalization routing | – | a training batch norm in 3 passes forward, 2 backward (batch_norm_train.ts) |
 *
 * Gradients: FusedBatchNorm (→ SaMtlFusedBatchNormGrad), Relu (→ SaMtlReluGrad) and Mean (→ one
 * Tile) get faster gradients while the active backend has the pack; other backends keep tfjs' own.
 * On `cpu` the pack registers the same kernels (JS paths) except Identity, Cast, BatchMatMul, the
 * direct convolutions and Relu.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerKernelPack } from "./kernels/mod.ts";
 * registerKernelPack("wasm");
 * await tf.setBackend("wasm");
 * ```
 * Prefer `initBackend` (runner/backend.ts), which also runs the gradient self-check.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-layers' bundle registers tfjs-core's gradients; it must run before the pack replaces one.
import "@tensorflow/tfjs-layers";
import type { KernelConfig, KernelFunc } from "@tensorflow/tfjs-core";
import * as conv2dBackpropFilter from "./conv2d_backprop_filter.ts";
import * as conv2dBackpropInput from "./conv2d_backprop_input.ts";
import * as depthwiseBackpropFilter from "./depthwise_conv2d_backprop_filter.ts";
import * as depthwiseBackpropInput from "./depthwise_conv2d_backprop_input.ts";
import * as depthwiseConv2d from "./depthwise_conv2d.ts";
import * as conv2d from "./conv2d.ts";
import * as fusedConv2d from "./fused_conv2d.ts";
import * as maxPoolGrad from "./max_pool_grad.ts";
import * as tile from "./tile.ts";
import * as sum from "./sum.ts";
import * as mean from "./mean.ts";
import * as identity from "./identity.ts";
import * as cast from "./cast.ts";
import * as multiply from "./multiply.ts";
import * as add from "./add.ts";
import * as sub from "./sub.ts";
import * as realDiv from "./real_div.ts";
import * as batchNormGrad from "./batch_norm_grad.ts";
import * as fusedBatchNorm from "./fused_batch_norm.ts";
import * as batchMatMul from "./batch_mat_mul.ts";
import * as adamUpdate from "./adam_update.ts";
import * as relu from "./relu.ts";
import { BATCH_NORM_TRAIN_KERNELS } from "./batch_norm_train.ts";
import { installFusedBatchNorm } from "./_fused_bn_layer.ts";
import { installInputConvRoute } from "./_input_conv.ts";
import { rememberStock } from "./_stock.ts";
import { installPackGradients } from "./_gradients.ts";
import { useSharedWasmMemory } from "./threads.ts";

export { setChunkBudget } from "./_geometry.ts";
export { setSimdKernelsEnabled, simdKernelsAvailable } from "./_simd.ts";
export {
  kernelThreads,
  kernelThreadsReady,
  setKernelThreads,
  stopKernelThreads,
  useSharedWasmMemory,
} from "./threads.ts";

/** Version of the kernel pack, recorded in run configs. Bump on any numerical change. */
export const KERNEL_PACK_VERSION = "1.5.0";

/** The tfjs-core version whose backend internals the pack was written and tested against. */
export const SUPPORTED_TFJS_CORE = "4.22.0";

/** Backends the pack can be registered on. */
export type PackBackend = "wasm" | "cpu";

/** One kernel of the pack. */
export interface PackKernel {
  kernelName: string;
  kernelFunc: KernelFunc;
}

/** All kernels of the pack (the same implementation serves both backends). */
export const PACK_KERNELS: readonly PackKernel[] = [
  conv2dBackpropFilter,
  conv2dBackpropInput,
  depthwiseBackpropFilter,
  depthwiseBackpropInput,
  maxPoolGrad,
  tile,
  sum,
  mean,
  identity,
  cast,
  multiply,
  add,
  sub,
  realDiv,
  batchNormGrad,
  fusedBatchNorm,
  batchMatMul,
  depthwiseConv2d,
  conv2d,
  fusedConv2d,
  adamUpdate,
  ...BATCH_NORM_TRAIN_KERNELS,
  relu,
  relu.gradKernel,
];

/** Kernels only the wasm backend needs (cpu's Identity and Cast share data already; its BatchMatMul has no slow transposed path). */
const WASM_ONLY = new Set([
  "Identity",
  "Cast",
  "BatchMatMul",
  "DepthwiseConv2dNative",
  "Conv2D",
  "FusedConv2D",
  "Relu",
]);

/**
 * Which kernels each backend gets: wasm all of them (SIMD paths through pack.wasm); cpu all but
 * Identity, Cast and BatchMatMul (JS paths).
 */
const KERNELS_FOR: Record<PackBackend, readonly string[]> = {
  wasm: PACK_KERNELS.map((k) => k.kernelName),
  cpu: PACK_KERNELS.map((k) => k.kernelName).filter((n) => !WASM_ONLY.has(n)),
};

/** Stock kernel configs replaced by the pack, per backend (for the reference backend and unregister). */
const stock = new Map<PackBackend, Map<string, KernelConfig | null>>();

/** Throws unless the loaded tfjs-core is the version the pack supports. */
export function assertSupportedTfjs(): void {
  if (tf.version_core !== SUPPORTED_TFJS_CORE) {
    throw new Error(
      `kernel pack ${KERNEL_PACK_VERSION} replaces backend internals of @tensorflow/tfjs-core ` +
        `${SUPPORTED_TFJS_CORE}, but ${tf.version_core} is loaded; pin tfjs to ${SUPPORTED_TFJS_CORE} ` +
        `or use --backend=tensorflow|webgpu`,
    );
  }
}

/** Names of the kernels the pack puts on a backend. */
export function packKernelNames(backendName: PackBackend): string[] {
  return [...KERNELS_FOR[backendName]];
}

/** Whether the pack is currently registered on the backend. */
export function isKernelPackRegistered(backendName: PackBackend): boolean {
  return stock.has(backendName);
}

/**
 * Registers the pack on `backendName` (idempotent), replacing stock kernels of the same name.
 * The backend package (`@tensorflow/tfjs-backend-wasm` or `-cpu`) must have been imported.
 * Returns the names of the kernels registered.
 */
export function registerKernelPack(backendName: PackBackend): string[] {
  assertSupportedTfjs();
  if (backendName !== "wasm" && backendName !== "cpu") {
    throw new Error(`registerKernelPack: backend must be 'wasm' or 'cpu' (got '${backendName}')`);
  }
  if (stock.has(backendName)) return packKernelNames(backendName);
  if (tf.getKernel("BatchMatMul", backendName) === undefined) {
    throw new Error(
      `registerKernelPack('${backendName}'): the backend's kernels are not registered; ` +
        `import "@tensorflow/tfjs-backend-${backendName}" first`,
    );
  }
  // Before the wasm backend first initialises: start it on shared memory so the pack's threads
  // can work on its tensors (kernels/threads.ts). Without it the pack runs on one thread.
  if (backendName === "wasm") useSharedWasmMemory();
  const saved = new Map<string, KernelConfig | null>();
  for (const k of PACK_KERNELS) {
    if (!KERNELS_FOR[backendName].includes(k.kernelName)) continue;
    const old = tf.getKernel(k.kernelName, backendName);
    saved.set(k.kernelName, old ?? null);
    if (old) rememberStock(old);
    if (old) tf.unregisterKernel(k.kernelName, backendName);
    // Keep the stock setupFunc: wasm kernels bind their C++ entry point there when the backend
    // initialises, and the pack falls back to the stock kernelFunc for the cases it does not handle.
    tf.registerKernel({
      kernelName: k.kernelName,
      backendName,
      kernelFunc: k.kernelFunc,
      setupFunc: old?.setupFunc,
    });
  }
  stock.set(backendName, saved);
  const packActive = (name: string) => (name === "wasm" || name === "cpu") && stock.has(name);
  installPackGradients(packActive);
  adamUpdate.installPackAdam(() => packActive(tf.getBackend()));
  installFusedBatchNorm("cpu-pack", () => packActive(tf.getBackend()));
  installInputConvRoute(() => packActive(tf.getBackend()));
  return packKernelNames(backendName);
}

/** Restores the stock kernels replaced by {@link registerKernelPack} (used by tests and benches). */
export function unregisterKernelPack(backendName: PackBackend): void {
  const saved = stock.get(backendName);
  if (!saved) return;
  for (const [name, old] of saved) {
    tf.unregisterKernel(name, backendName);
    if (old) tf.registerKernel(old);
  }
  stock.delete(backendName);
}

/**
 * The stock kernel configs of a backend as they were before the pack (the pack's replacements are
 * swapped back for the saved originals). Used to build an independent reference backend.
 */
export function stockKernelConfigs(backendName: PackBackend): KernelConfig[] {
  const saved = stock.get(backendName);
  const out: KernelConfig[] = [];
  for (const cfg of tf.getKernelsForBackend(backendName)) {
    if (saved?.has(cfg.kernelName)) {
      const old = saved.get(cfg.kernelName);
      if (old) out.push(old);
    } else {
      out.push(cfg);
    }
  }
  return out;
}

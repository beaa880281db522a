/**
 * The WebGPU pack: WGSL kernels and settings that make tfjs-webgpu 4.22 training steps cheap to
 * enqueue, registered on the `webgpu` backend like the CPU kernel pack (kernels/mod.ts) is on
 * wasm/cpu. Measured with bench/webgpu_counters.ts (`deno task bench:webgpu`):
 *
 * | change | why |
 * |---|---|
 * | SaMtlAdamUpdate + AdamOptimizer routing (fused_adam.ts) | one dispatch per variable instead of 14 |
 * | `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE` raised | tfjs submits every 15 dispatches; a submit costs ms |
 * | SaMtlBatchNormStats / GradReduce / GradInput + BatchNormalization routing (../_fused_bn_layer.ts) | 4 dispatches per training batch norm instead of ~36 |
| `WEBGPU_CPU_FORWARD` off | small ops ran on the CPU, forcing uploads of their results |
| uniform arena (uniform_arena.ts) | one `queue.writeBuffer` per submit instead of one per dispatch |
 *
 * ```ts
 * import "@tensorflow/tfjs-backend-webgpu";
 * import { registerWebgpuPack } from "./kernels/webgpu/mod.ts";
 * registerWebgpuPack();
 * await tf.setBackend("webgpu");
 * ```
 * Prefer `initBackend({ backend: "webgpu" })` (runner/backend.ts), which registers it.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc } from "@tensorflow/tfjs-core";
import { assertSupportedTfjs } from "../mod.ts";
import * as adam from "./adam.ts";
import { installFusedAdam } from "./fused_adam.ts";
import { BATCH_NORM_KERNELS } from "./batch_norm.ts";
import { installFusedBatchNorm } from "../_fused_bn_layer.ts";
import { installUniformArena } from "./uniform_arena.ts";

/** Version of the WebGPU pack, recorded in run configs. Bump on any numerical change. */
export const WEBGPU_PACK_VERSION = "0.1.0";

/** Dispatches recorded before tfjs submits them (tfjs' default is 15). */
export const SUBMIT_BATCH_SIZE = 4096;

/** One kernel of the WebGPU pack. */
export interface WebgpuPackKernel {
  kernelName: string;
  kernelFunc: KernelFunc;
}

/** All kernels of the WebGPU pack. */
export const WEBGPU_PACK_KERNELS: readonly WebgpuPackKernel[] = [adam, ...BATCH_NORM_KERNELS];

let registered: {
  saved: Map<string, KernelConfig | null>;
  flags: Record<string, number | boolean>;
  detach: (() => void) | null;
} | null = null;

/** Whether the WebGPU pack is registered. */
export function isWebgpuPackRegistered(): boolean {
  return registered !== null;
}

/** Names of the pack's kernels. */
export function webgpuPackKernelNames(): string[] {
  return WEBGPU_PACK_KERNELS.map((k) => k.kernelName);
}

/**
 * Registers the pack on `webgpu` (idempotent) and sets tfjs-webgpu's flags; `@tensorflow/tfjs-backend-webgpu`
 * must have been imported. Returns the kernel names.
 */
export function registerWebgpuPack(): string[] {
  assertSupportedTfjs();
  if (registered) return webgpuPackKernelNames();
  const env = tf.env();
  try {
    env.getNumber("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE");
  } catch {
    throw new Error('registerWebgpuPack: import "@tensorflow/tfjs-backend-webgpu" first');
  }
  const saved = new Map<string, KernelConfig | null>();
  for (const k of WEBGPU_PACK_KERNELS) {
    const old = tf.getKernel(k.kernelName, "webgpu");
    saved.set(k.kernelName, old ?? null);
    if (old) tf.unregisterKernel(k.kernelName, "webgpu");
    tf.registerKernel({ kernelName: k.kernelName, backendName: "webgpu", kernelFunc: k.kernelFunc });
  }
  const flags = {
    WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: env.getNumber("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE"),
    WEBGPU_CPU_FORWARD: env.getBool("WEBGPU_CPU_FORWARD"),
  };
  env.set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", SUBMIT_BATCH_SIZE);
  env.set("WEBGPU_CPU_FORWARD", false);
  registered = { saved, flags, detach: null };
  attachWebgpuPack();
  const active = () => registered !== null && tf.getBackend() === "webgpu";
  installFusedAdam(active);
  installFusedBatchNorm("webgpu", active);
  return webgpuPackKernelNames();
}

/**
 * Installs the parts of the pack that live on the backend instance (the uniform arena) once tfjs has
 * created the webgpu backend; {@link registerWebgpuPack} calls it, and `initBackend` again after
 * `tf.setBackend("webgpu")`. A no-op without the pack or before the backend exists.
 */
export function attachWebgpuPack(): void {
  if (!registered || registered.detach) return;
  const backend = tf.findBackend("webgpu");
  if (backend) registered.detach = installUniformArena(backend);
}

/** Restores tfjs-webgpu as shipped (kernels, flags, Adam); used by the bench's `--mode=stock` and tests. */
export function unregisterWebgpuPack(): void {
  if (!registered) return;
  for (const [name, old] of registered.saved) {
    tf.unregisterKernel(name, "webgpu");
    if (old) tf.registerKernel(old);
  }
  for (const [k, v] of Object.entries(registered.flags)) tf.env().set(k, v);
  registered.detach?.();
  registered = null;
}

/**
 * Dispatching the toolkit's own WGSL kernels into tfjs-webgpu's command stream. tfjs' own
 * `runWebGPUProgram` writes one output per dispatch; the fused kernels here write several (Adam's
 * value and both moments; batch norm's five gradients), so they record their dispatch themselves
 * into the backend's open compute pass, with the same bookkeeping tfjs does: the buffers are marked
 * as owned by the pending command buffer (so they are not recycled before the submit), uniforms go
 * through the backend's uniform pool, and the pass is submitted at the same batch size.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { DataId, TensorInfo } from "@tensorflow/tfjs-core";

/** The parts of tfjs-webgpu 4.22's WebGPUBackend this module uses. */
export interface WebgpuBackendInternals {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<DataId>;
  activeTimers?: unknown;
  tensorMap: { get(id: DataId): { resource?: unknown } };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  uploadToGPU(id: DataId): void;
  makeTensorInfo(shape: number[], dtype: "float32"): TensorInfo;
  makeUniforms(u: { type: "float32" | "int32" | "uint32"; data: number[] }[]): GPUBufferBinding;
}

/** Uniform fields, in declaration order (each a scalar: the WGSL struct is all 4-byte fields). */
export type Uniforms = { type: "float32" | "int32" | "uint32"; data: number[] }[];

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** The compiled pipeline for `key` (compiled once per device). */
function pipelineFor(device: GPUDevice, key: string, code: string): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) {
    cache = new Map();
    pipelines.set(device, cache);
  }
  let p = cache.get(key);
  if (!p) {
    const module = device.createShaderModule({ code, label: key });
    p = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" }, label: key });
    cache.set(key, p);
  }
  return p;
}

/** A new float32 tensor with a GPU buffer (contents undefined until a kernel writes them). */
export function allocOutput(backend: WebgpuBackendInternals, shape: number[]): TensorInfo {
  const t = backend.makeTensorInfo(shape, "float32");
  backend.uploadToGPU(t.dataId);
  return t;
}

/** Workgroup counts for `invocations` threads in groups of `groupSize`, within the per-dimension limit. */
export function workgroups(device: GPUDevice, invocations: number, groupSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / groupSize));
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  const x = Math.ceil(Math.sqrt(groups));
  return [x, Math.ceil(groups / x)];
}

/**
 * Records one dispatch of `code` (entry point `main`; bindings: `tensors` in order, then the
 * uniform buffer last) into the backend's command stream.
 */
export function dispatch(
  backend: WebgpuBackendInternals,
  opts: { key: string; code: string; tensors: TensorInfo[]; uniforms: Uniforms; groups: [number, number] },
): void {
  const device = backend.device;
  const pipeline = pipelineFor(device, opts.key, opts.code);
  for (const t of opts.tensors) backend.uploadToGPU(t.dataId);
  const entries: GPUBindGroupEntry[] = opts.tensors.map((t, i) => ({
    binding: i,
    resource: { buffer: backend.tensorMap.get(t.dataId).resource as GPUBuffer },
  }));
  entries.push({ binding: opts.tensors.length, resource: backend.makeUniforms(opts.uniforms) });
  for (const t of opts.tensors) backend.commandQueueOwnedIds.add(t.dataId);
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  backend.ensureCommandEncoderReady();
  if (!backend.computePassEncoder) {
    backend.computePassEncoder = backend.commandEncoder!.beginComputePass({});
  }
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, bindGroup);
  backend.computePassEncoder.dispatchWorkgroups(opts.groups[0], opts.groups[1], 1);
  backend.dispatchCountInPass++;
  // tf.profile / tf.time give tfjs' own programs per-pass timers; these kernels are not timed, but
  // the pass is ended the same way so the timers of the next program stay correct.
  const batch = tf.env().getNumber("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE");
  if (backend.activeTimers != null || batch <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}

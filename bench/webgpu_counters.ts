/**
 * WebGPU step counters: what one training step asks of the GPU queue. Counts compute dispatches
 * (per tfjs kernel), queue submits and the time spent inside `queue.submit`, `queue.writeBuffer` calls,
 * GPU-to-CPU readbacks
 * (count, bytes, time waiting for them), kernels that tfjs-webgpu computed on the CPU instead
 * (`WEBGPU_CPU_FORWARD`), and compute-pipeline compilations. Works on any adapter, including Mesa's
 * llvmpipe, so it is developed and tested without a GPU.
 *
 * The counters wrap the WebGPU API prototypes (`GPUComputePassEncoder.dispatchWorkgroups`,
 * `GPUQueue.submit`, `GPUBuffer.mapAsync`, `GPUDevice.createComputePipeline[Async]`) rather than
 * tfjs-webgpu internals, so dispatches of the toolkit's own WGSL kernels (kernels/webgpu/) count too;
 * and the webgpu kernel registry, to attribute dispatches to kernels and to catch CPU-forwarded ones.
 *
 * ```ts
 * const counters = installWebgpuCounters();
 * counters.reset();
 * for (let i = 0; i < 5; i++) await step();
 * const perStep = stepFields(counters.snapshot(), 5);
 * counters.uninstall();
 * ```
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";

/** Raw counts since the last {@link WebgpuCounterHandle.reset}. */
export interface WebgpuCounts {
  /** Compute dispatches (`dispatchWorkgroups`). */
  dispatches: number;
  /** `GPUQueue.submit` calls. */
  submits: number;
  /** Milliseconds spent inside `GPUQueue.submit`. */
  submitMs: number;
  /** `GPUQueue.writeBuffer` calls (tfjs-webgpu writes each dispatch's uniforms with one). */
  bufferWrites: number;
  /** GPU-to-CPU readbacks (`GPUBuffer.mapAsync` for reading). */
  readbacks: number;
  /** Bytes of the buffers read back. */
  readbackBytes: number;
  /** Milliseconds between a readback's request and its completion. */
  readbackWaitMs: number;
  /** Kernel calls on the webgpu backend whose result was computed on the CPU. */
  cpuForwardedOps: number;
  /** Compute pipelines compiled. */
  compiles: number;
  /** Wall milliseconds since the last reset. */
  elapsedMs: number;
  /** Dispatches per kernel name ("(outside kernels)" for direct dispatches). */
  byKernel: Record<string, number>;
  /** CPU-forwarded calls per kernel name. */
  cpuForwardedByKernel: Record<string, number>;
}

/** Per-step figures for `bench:train --json` rows on webgpu. */
export interface WebgpuStepFields {
  dispatchesPerStep: number;
  submitsPerStep: number;
  /** `queue.writeBuffer` calls per step. */
  bufferWritesPerStep: number;
  /** Readbacks per step (count). */
  readbacksPerStep: number;
  readbackBytesPerStep: number;
  /** CPU-forwarded kernel calls per step. */
  cpuForwardedOps: number;
  /** Pipelines compiled during the timed steps (after warm-up). */
  compilesAfterWarmup: number;
  /** CPU milliseconds per step spent recording and enqueueing work (wall time less readback waits). */
  enqueueMsPerStep: number;
  /** Milliseconds per step inside `queue.submit`. */
  submitMsPerStep: number;
  /** Milliseconds per step waiting for readbacks. */
  readbackWaitMsPerStep: number;
}

/** Live counters; see {@link installWebgpuCounters}. */
export interface WebgpuCounterHandle {
  /** Zeroes every count and restarts the wall clock. */
  reset(): void;
  /** The counts since the last reset. */
  snapshot(): WebgpuCounts;
  /** Restores the wrapped prototypes and kernels. */
  uninstall(): void;
}

interface Patch {
  target: Record<string, unknown>;
  key: string;
  original: unknown;
}

function zero(): WebgpuCounts {
  return {
    dispatches: 0,
    submits: 0,
    submitMs: 0,
    bufferWrites: 0,
    readbacks: 0,
    readbackBytes: 0,
    readbackWaitMs: 0,
    cpuForwardedOps: 0,
    compiles: 0,
    elapsedMs: 0,
    byKernel: {},
    cpuForwardedByKernel: {},
  };
}

function globalProto(name: string): Record<string, unknown> | null {
  const ctor = (globalThis as Record<string, unknown>)[name] as
    | { prototype?: Record<string, unknown> }
    | undefined;
  return ctor?.prototype ?? null;
}

let active: WebgpuCounterHandle | null = null;

/**
 * Installs the counters (one set per process; a second call returns the installed one). Install it
 * after every webgpu kernel is registered (the registry wrappers are made at install time).
 * Throws when the runtime has no WebGPU API.
 */
export function installWebgpuCounters(): WebgpuCounterHandle {
  if (active) return active;
  const protos = {
    pass: globalProto("GPUComputePassEncoder"),
    queue: globalProto("GPUQueue"),
    buffer: globalProto("GPUBuffer"),
    device: globalProto("GPUDevice"),
  };
  if (!protos.pass || !protos.queue || !protos.buffer || !protos.device) {
    throw new Error("webgpu counters: this runtime has no WebGPU API (navigator.gpu)");
  }
  let c = zero();
  let t0 = performance.now();
  const kernelStack: string[] = [];
  const patches: Patch[] = [];
  const patch = (target: Record<string, unknown>, key: string, make: (orig: never) => unknown) => {
    const original = target[key];
    patches.push({ target, key, original });
    target[key] = make(original as never);
  };
  const bump = (rec: Record<string, number>, key: string) => {
    rec[key] = (rec[key] ?? 0) + 1;
  };
  patch(
    protos.pass,
    "dispatchWorkgroups",
    (orig: (...a: unknown[]) => void) =>
      function (this: unknown, ...a: unknown[]) {
        c.dispatches++;
        bump(c.byKernel, kernelStack.at(-1) ?? "(outside kernels)");
        return orig.apply(this, a);
      },
  );
  patch(
    protos.queue,
    "submit",
    (orig: (...a: unknown[]) => void) =>
      function (this: unknown, ...a: unknown[]) {
        const s = performance.now();
        try {
          return orig.apply(this, a);
        } finally {
          c.submits++;
          c.submitMs += performance.now() - s;
        }
      },
  );
  patch(
    protos.queue,
    "writeBuffer",
    (orig: (...a: unknown[]) => void) =>
      function (this: unknown, ...a: unknown[]) {
        c.bufferWrites++;
        return orig.apply(this, a);
      },
  );
  patch(
    protos.buffer,
    "mapAsync",
    (orig: (...a: unknown[]) => Promise<void>) =>
      function (this: { size: number }, mode: number, ...rest: unknown[]) {
        // GPUMapMode.READ is 1; write mappings (uploads) are not readbacks.
        if (!(mode & 1)) return orig.call(this, mode, ...rest);
        const counts = c;
        counts.readbacks++;
        counts.readbackBytes += (rest[1] as number | undefined) ?? this.size;
        const s = performance.now();
        return orig.call(this, mode, ...rest).finally(() => {
          counts.readbackWaitMs += performance.now() - s;
        });
      },
  );
  for (const key of ["createComputePipeline", "createComputePipelineAsync"]) {
    patch(
      protos.device,
      key,
      (orig: (...a: unknown[]) => unknown) =>
        function (this: unknown, ...a: unknown[]) {
          c.compiles++;
          return orig.apply(this, a);
        },
    );
  }
  const kernels: KernelConfig[] = tf.getKernelsForBackend("webgpu");
  for (const k of kernels) {
    tf.unregisterKernel(k.kernelName, "webgpu");
    tf.registerKernel({ ...k, kernelFunc: countedKernel(k, kernelStack, () => c) });
  }
  const handle: WebgpuCounterHandle = {
    reset() {
      c = zero();
      t0 = performance.now();
    },
    snapshot() {
      return {
        ...c,
        elapsedMs: performance.now() - t0,
        byKernel: { ...c.byKernel },
        cpuForwardedByKernel: { ...c.cpuForwardedByKernel },
      };
    },
    uninstall() {
      for (const p of patches.reverse()) p.target[p.key] = p.original;
      for (const k of kernels) {
        tf.unregisterKernel(k.kernelName, "webgpu");
        tf.registerKernel(k);
      }
      active = null;
    },
  };
  active = handle;
  return handle;
}

interface WebgpuTensorData {
  resource?: unknown;
  values?: unknown;
}

/** Wraps a webgpu kernel: attributes its dispatches to its name and counts CPU-computed results. */
function countedKernel(k: KernelConfig, stack: string[], counts: () => WebgpuCounts): KernelFunc {
  return (args) => {
    stack.push(k.kernelName);
    let out: TensorInfo | TensorInfo[];
    try {
      out = k.kernelFunc(args);
    } finally {
      stack.pop();
    }
    const backend = args.backend as unknown as {
      tensorMap: { get(id: object): WebgpuTensorData | undefined };
    };
    const inputIds = new Set(
      Object.values(args.inputs).filter((t) => t).map((t) => (t as TensorInfo).dataId),
    );
    const outs = Array.isArray(out) ? out : [out];
    // A result that lives only in CPU memory and is not one of the inputs (a reshape of a CPU tensor
    // shares its input's data) was computed by tfjs-webgpu's CPU fallback.
    const onCpu = outs.some((o) => {
      if (inputIds.has(o.dataId)) return false;
      const d = backend.tensorMap?.get(o.dataId);
      return d !== undefined && d.resource == null && d.values != null;
    });
    if (onCpu) {
      const c = counts();
      c.cpuForwardedOps++;
      c.cpuForwardedByKernel[k.kernelName] = (c.cpuForwardedByKernel[k.kernelName] ?? 0) + 1;
    }
    return out;
  };
}

/** Per-step figures from the counts of `steps` timed steps (compilations are totals, not per step). */
export function stepFields(counts: WebgpuCounts, steps: number): WebgpuStepFields {
  return {
    dispatchesPerStep: counts.dispatches / steps,
    submitsPerStep: counts.submits / steps,
    bufferWritesPerStep: counts.bufferWrites / steps,
    readbacksPerStep: counts.readbacks / steps,
    readbackBytesPerStep: counts.readbackBytes / steps,
    cpuForwardedOps: counts.cpuForwardedOps / steps,
    compilesAfterWarmup: counts.compiles,
    enqueueMsPerStep: (counts.elapsedMs - counts.readbackWaitMs) / steps,
    submitMsPerStep: counts.submitMs / steps,
    readbackWaitMsPerStep: counts.readbackWaitMs / steps,
  };
}

/** The `n` kernels with the most dispatches, as "Name: count" strings (per step). */
export function topKernels(counts: WebgpuCounts, steps: number, n = 12): string[] {
  return Object.entries(counts.byKernel).sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, v]) => `${k}: ${+(v / steps).toFixed(1)}`);
}

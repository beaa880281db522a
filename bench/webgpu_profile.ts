/**
 * GPU time per kernel of a WebGPU training step (bench/gpu_check.ts part `profile`): which dispatches
 * take the GPU's time. A profile, not a throughput figure: every dispatch gets its own compute pass so
 * that it can be timed, which the real step does not do.
 *
 * The clock is the GPU's own (`timestamp-query`, which tfjs-webgpu requests where the adapter has
 * it: Mesa's llvmpipe and NVIDIA's driver do): every compute pass gets `timestampWrites` into one
 * query set, and the backend ends its open pass before each dispatch, so every dispatch is timed from
 * its pass's begin to its end; the step still goes to the queue in one submit, and the queries are
 * resolved after it. There is no CPU-clock fallback: tfjs records a whole step synchronously and Deno
 * resolves `onSubmittedWorkDone` only between JavaScript turns, so completion stamps taken during a
 * step all land at its end (tried: the first dispatch got 97% of the time).
 *
 * Dispatches are named by the tfjs kernel that issued them (the innermost one, so the pack's kernels
 * of kernels/webgpu/ appear under their own names), the compute pipeline's label (tfjs' program class,
 * or the pack's pipeline key) and, for tfjs programs, the output shape.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc } from "@tensorflow/tfjs-core";

/** The clock of a profile (GPU timestamps, in the resolved query values' nanoseconds). */
export type GpuProfileClock = "gpu-timestamp";

/** One timed dispatch. */
export interface DispatchTime {
  /** The tfjs kernel that issued it ("(outside kernels)" when none). */
  kernel: string;
  /** The compute pipeline's label (tfjs' program class name, or the pack's pipeline key). */
  program: string;
  /** Output shape of the tfjs program (empty for the pack's own dispatches). */
  outShape: number[];
  /** Workgroups dispatched. */
  groups: number[];
  /** Milliseconds on the profile's clock. */
  ms: number;
}

/** One step's dispatch times. */
export interface StepProfile {
  dispatches: DispatchTime[];
  /** Passes left untimed (more than the query set holds). */
  untimed: number;
  /** First start to last end on the profile's clock (ms): the GPU's busy window for the step. */
  spanMs: number;
}

/** A profiler installed on a tfjs webgpu backend; see {@link installGpuProfiler}. */
export interface GpuProfiler {
  clock: GpuProfileClock;
  /** Starts timing the dispatches recorded from now on. */
  start(): void;
  /** Stops timing; resolves, once the GPU has run them, to their times. Call after the step's readback. */
  stop(): Promise<StepProfile>;
  /** Restores everything the profiler wrapped. */
  uninstall(): void;
}

/** The tfjs-webgpu 4.22 backend internals the profiler wraps. */
interface ProfiledBackend {
  device: GPUDevice;
  computePassEncoder: GPUComputePassEncoder | null;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  runWebGPUProgram(program: { outputShape?: number[] }, ...rest: unknown[]): unknown;
}

interface PassRecord {
  kernel: string;
  program: string;
  outShape: number[];
  groups: number[];
  /** Query index of the pass's start (timestamp clock). */
  query: number;
  dispatches: number;
}

/** Queries per query set (the WebGPU limit). */
const QUERY_COUNT = 4096;

function proto(name: string): Record<string, unknown> {
  const ctor = (globalThis as Record<string, unknown>)[name] as
    | { prototype?: Record<string, unknown> }
    | undefined;
  if (!ctor?.prototype) throw new Error(`webgpu profile: this runtime has no ${name}`);
  return ctor.prototype;
}

/**
 * Installs the profiler on `backend` (tfjs' webgpu backend instance). Install it after every webgpu
 * kernel is registered (the kernel wrappers that name the dispatches are made at install time).
 * Throws when the device lacks `timestamp-query`.
 */
export function installGpuProfiler(backend: object): GpuProfiler {
  const b = backend as ProfiledBackend;
  const device = b.device;
  if (!device.features.has("timestamp-query")) {
    throw new Error("webgpu profile: the device has no timestamp-query feature, so no per-dispatch GPU time");
  }
  const clock: GpuProfileClock = "gpu-timestamp";
  const undo: (() => void)[] = [];
  const patch = (target: Record<string, unknown>, key: string, make: (orig: never) => unknown) => {
    const had = Object.prototype.hasOwnProperty.call(target, key);
    const original = target[key];
    target[key] = make(original as never);
    undo.push(() => {
      if (had) target[key] = original;
      else delete target[key];
    });
  };
  let recording = false;
  const kernelStack: string[] = [];
  let currentShape: number[] = [];
  const passes = new WeakMap<object, PassRecord>();
  let records: PassRecord[] = [];
  let untimed = 0;

  // Name the dispatches: the innermost tfjs kernel on the stack, and the output shape of the tfjs
  // program being recorded.
  const kernels: KernelConfig[] = tf.getKernelsForBackend("webgpu");
  for (const k of kernels) {
    tf.unregisterKernel(k.kernelName, "webgpu");
    const inner = k.kernelFunc;
    const named: KernelFunc = (args) => {
      kernelStack.push(k.kernelName);
      try {
        return inner(args);
      } finally {
        kernelStack.pop();
      }
    };
    tf.registerKernel({ ...k, kernelFunc: named });
  }
  undo.push(() => {
    for (const k of kernels) {
      tf.unregisterKernel(k.kernelName, "webgpu");
      tf.registerKernel(k);
    }
  });
  patch(
    b as unknown as Record<string, unknown>,
    "runWebGPUProgram",
    (orig: (...a: unknown[]) => unknown) =>
      function (this: unknown, program: { outputShape?: number[] }, ...rest: unknown[]) {
        const saved = currentShape;
        currentShape = program.outputShape ?? [];
        try {
          return orig.call(this, program, ...rest);
        } finally {
          currentShape = saved;
        }
      },
  );
  const newRecord = (query: number): PassRecord => ({
    kernel: kernelStack.at(-1) ?? "(outside kernels)",
    program: "",
    outShape: currentShape,
    groups: [],
    query,
    dispatches: 0,
  });
  patch(
    proto("GPUComputePassEncoder"),
    "setPipeline",
    (orig: (...a: unknown[]) => void) =>
      function (this: object, pipeline: GPUComputePipeline) {
        const r = recording ? passes.get(this) : undefined;
        if (r && !r.program) r.program = pipeline.label || "(unlabelled pipeline)";
        return orig.call(this, pipeline);
      },
  );
  patch(
    proto("GPUComputePassEncoder"),
    "dispatchWorkgroups",
    (orig: (...a: unknown[]) => void) =>
      function (this: object, x: number, y = 1, z = 1) {
        const r = recording ? passes.get(this) : undefined;
        if (r) {
          if (r.dispatches === 0) {
            r.groups = [x, y, z];
            // The kernel and shape as of the dispatch (the pass may have begun earlier).
            r.kernel = kernelStack.at(-1) ?? r.kernel;
            r.outShape = currentShape.length ? currentShape : r.outShape;
          }
          r.dispatches++;
        }
        return orig.call(this, x, y, z);
      },
  );

  let nextQuery = 0;
  const querySet = device.createQuerySet({ type: "timestamp", count: QUERY_COUNT });
  const resolveBuf = device.createBuffer({
    size: QUERY_COUNT * 8,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const readBuf = device.createBuffer({
    size: QUERY_COUNT * 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  // One dispatch per pass: end the open pass whenever tfjs or the pack is about to record into it.
  patch(
    b as unknown as Record<string, unknown>,
    "ensureCommandEncoderReady",
    (orig: () => void) =>
      function (this: ProfiledBackend) {
        if (recording) this.endComputePassEncoder();
        return orig.call(this);
      },
  );
  patch(
    proto("GPUCommandEncoder"),
    "beginComputePass",
    (orig: (d?: GPUComputePassDescriptor) => GPUComputePassEncoder) =>
      function (this: unknown, desc?: GPUComputePassDescriptor) {
        if (!recording || desc?.timestampWrites) return orig.call(this, desc);
        if (nextQuery + 2 > QUERY_COUNT) {
          untimed++;
          return orig.call(this, desc);
        }
        const r = newRecord(nextQuery);
        const pass = orig.call(this, {
          ...desc,
          timestampWrites: {
            querySet: querySet,
            beginningOfPassWriteIndex: nextQuery,
            endOfPassWriteIndex: nextQuery + 1,
          },
        });
        nextQuery += 2;
        passes.set(pass, r);
        records.push(r);
        return pass;
      },
  );

  return {
    clock,
    start() {
      records = [];
      untimed = 0;
      nextQuery = 0;
      // A pass left open from before is not timed; the next dispatch opens a timed one.
      b.endComputePassEncoder();
      recording = true;
    },
    async stop() {
      recording = false;
      // Passes that recorded no dispatch (none expected) carry no time.
      const timed = records.filter((r) => r.dispatches > 0);
      if (nextQuery === 0) return { dispatches: [], untimed, spanMs: 0 };
      const enc = device.createCommandEncoder();
      enc.resolveQuerySet(querySet, 0, nextQuery, resolveBuf, 0);
      enc.copyBufferToBuffer(resolveBuf, 0, readBuf, 0, nextQuery * 8);
      device.queue.submit([enc.finish()]);
      await readBuf.mapAsync(GPUMapMode.READ, 0, nextQuery * 8);
      const ticks = new BigUint64Array(readBuf.getMappedRange(0, nextQuery * 8).slice(0));
      readBuf.unmap();
      let first = Infinity;
      let last = -Infinity;
      const dispatches = timed.map((r) => {
        const t0 = Number(ticks[r.query]) / 1e6;
        const t1 = Number(ticks[r.query + 1]) / 1e6;
        first = Math.min(first, t0);
        last = Math.max(last, t1);
        return toTime(r, Math.max(0, t1 - t0));
      });
      return { dispatches, untimed, spanMs: timed.length ? last - first : 0 };
    },
    uninstall() {
      recording = false;
      for (const u of undo.reverse()) u();
      querySet.destroy();
      resolveBuf.destroy();
      readBuf.destroy();
    },
  };
}

function toTime(r: PassRecord, ms: number): DispatchTime {
  return {
    kernel: r.kernel,
    program: r.program || "(no pipeline)",
    outShape: r.outShape,
    groups: r.groups,
    ms,
  };
}

/** One row of a per-kernel summary (per step). */
export interface KernelGpuRow {
  kernel: string;
  program: string;
  /** Output shape and workgroups, when summarised by shape. */
  shape?: string;
  callsPerStep: number;
  msPerStep: number;
  /** Share of the summed GPU time, in percent. */
  percent: number;
  msPerCall: number;
}

/** Per-kernel GPU time of profiled steps, slowest first. */
export interface KernelGpuSummary {
  steps: number;
  /** Summed dispatch time per step (ms). */
  totalMsPerStep: number;
  dispatchesPerStep: number;
  /** Rows by tfjs kernel and program, the top `top`. */
  byKernel: KernelGpuRow[];
  /** Rows by kernel, program, output shape and workgroups, the top `top`. */
  byShape: KernelGpuRow[];
}

/**
 * Sums dispatch times of `steps` profiled steps by (kernel, program) and by (kernel, program, shape),
 * per step, slowest first, keeping the `top` rows of each (ties by name, for a stable order).
 */
export function summarizeDispatchTimes(
  dispatches: DispatchTime[],
  opts: { steps: number; top?: number },
): KernelGpuSummary {
  const top = opts.top ?? 25;
  const steps = opts.steps;
  const total = dispatches.reduce((s, d) => s + d.ms, 0);
  const group = (keyOf: (d: DispatchTime) => { key: string; shape?: string }) => {
    const acc = new Map<
      string,
      { kernel: string; program: string; shape?: string; ms: number; calls: number }
    >();
    for (const d of dispatches) {
      const { key, shape } = keyOf(d);
      const e = acc.get(key) ?? { kernel: d.kernel, program: d.program, shape, ms: 0, calls: 0 };
      e.ms += d.ms;
      e.calls++;
      acc.set(key, e);
    }
    return [...acc.entries()]
      .sort((a, b) => b[1].ms - a[1].ms || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, top)
      .map(([, e]): KernelGpuRow => ({
        kernel: e.kernel,
        program: e.program,
        ...(e.shape !== undefined ? { shape: e.shape } : {}),
        callsPerStep: e.calls / steps,
        msPerStep: e.ms / steps,
        percent: total > 0 ? 100 * e.ms / total : 0,
        msPerCall: e.ms / e.calls,
      }));
  };
  return {
    steps,
    totalMsPerStep: total / steps,
    dispatchesPerStep: dispatches.length / steps,
    byKernel: group((d) => ({ key: `${d.kernel}\u0000${d.program}` })),
    byShape: group((d) => {
      const shape = `${d.outShape.length ? `[${d.outShape.join(",")}]` : "–"} wg[${d.groups.join(",")}]`;
      return { key: `${d.kernel}\u0000${d.program}\u0000${shape}`, shape };
    }),
  };
}

/** A per-kernel summary as a Markdown table (for stderr). */
export function formatKernelGpuRows(title: string, rows: KernelGpuRow[]): string {
  const withShape = rows.some((r) => r.shape !== undefined);
  const lines = [
    title,
    `| kernel | program |${withShape ? " shape |" : ""} calls/step | GPU ms/step | % | ms/call |`,
    `|---|---|${withShape ? "---|" : ""}---|---|---|---|`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.kernel} | ${r.program} |${withShape ? ` ${r.shape ?? ""} |` : ""} ${+r.callsPerStep.toFixed(
        1,
      )} | ` +
        `${r.msPerStep.toFixed(2)} | ${r.percent.toFixed(1)} | ${r.msPerCall.toFixed(3)} |`,
    );
  }
  return lines.join("\n");
}

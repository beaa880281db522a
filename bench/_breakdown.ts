/**
 * Per-kernel time of a training step (`bench:train --breakdown`). Every kernel registered on the
 * backend is wrapped with a wall-clock timer while profiling is on. Backends that compute
 * synchronously inside the kernel function (wasm, cpu) are measured exactly; kernels that call other
 * kernels directly (pack kernels that run XNNPACK's GEMM) are counted once, under the kernel tfjs
 * dispatched. What the step spends outside kernels (autodiff tape, tensor bookkeeping, Adam's
 * scheduling, JS glue) is the step time minus the kernel total.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelConfig } from "@tensorflow/tfjs-core";
import { cpuUsage } from "node:process";

/** Clocks a profile can use: wall time, or this process's CPU time (steadier on a shared machine, 1 thread only). */
export type ProfileClock = "wall" | "cpu";

/** Milliseconds on a clock. */
export function clockMs(clock: ProfileClock): number {
  if (clock === "wall") return performance.now();
  const u = cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Accumulated time and calls of one kernel name. */
export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
}

/** A running profile: read {@link KernelProfile.snapshot}, then {@link KernelProfile.stop}. */
export interface KernelProfile {
  /** Clears the accumulated times (e.g. after warm-up steps). */
  reset(): void;
  /** Kernel times so far, slowest first. */
  snapshot(): KernelTime[];
  /** Restores the unwrapped kernels. */
  stop(): void;
}

/** Wraps every kernel of `backendName` with a timer until `stop()`; `byShape` also splits by input shapes. */
export function profileKernels(
  backendName: string,
  opts: { byShape?: boolean; clock?: ProfileClock } = {},
): KernelProfile {
  const clock = opts.clock ?? "wall";
  const totals = new Map<string, KernelTime>();
  const originals: KernelConfig[] = [...tf.getKernelsForBackend(backendName)];
  let depth = 0;
  for (const cfg of originals) {
    const inner = cfg.kernelFunc;
    tf.unregisterKernel(cfg.kernelName, backendName);
    tf.registerKernel({
      ...cfg,
      kernelFunc: (args) => {
        // Only the outermost dispatch is timed, so nested engine dispatches are not counted twice.
        if (depth > 0) return inner(args);
        depth++;
        const t0 = clockMs(clock);
        try {
          return inner(args);
        } finally {
          const dt = clockMs(clock) - t0;
          depth--;
          const key = opts.byShape
            ? `${cfg.kernelName} ${
              Object.values(args.inputs).map((t) =>
                `[${(t as { shape?: number[] } | undefined)?.shape ?? ""}]`
              ).join(" ")
            }`
            : cfg.kernelName;
          const e = totals.get(key) ?? { kernel: key, ms: 0, calls: 0 };
          e.ms += dt;
          e.calls++;
          totals.set(key, e);
        }
      },
    });
  }
  return {
    reset: () => totals.clear(),
    snapshot: () => [...totals.values()].map((e) => ({ ...e })).sort((a, b) => b.ms - a.ms),
    stop: () => {
      for (const cfg of originals) {
        tf.unregisterKernel(cfg.kernelName, backendName);
        tf.registerKernel(cfg);
      }
    },
  };
}

/** Formats a per-step breakdown (times divided by `steps`) as a Markdown table. */
export function formatBreakdown(
  title: string,
  times: KernelTime[],
  opts: { steps: number; stepMs: number },
): string {
  const total = times.reduce((s, t) => s + t.ms, 0) / opts.steps;
  const lines = [
    `\n${title}: ${opts.stepMs.toFixed(1)} ms/step, ${total.toFixed(1)} ms in kernels`,
    "| kernel | ms/step | % of step | calls/step | µs/call |",
    "|---|---|---|---|---|",
  ];
  for (const t of times) {
    const ms = t.ms / opts.steps;
    lines.push(
      `| ${t.kernel} | ${ms.toFixed(2)} | ${(100 * ms / opts.stepMs).toFixed(1)} | ` +
        `${(t.calls / opts.steps).toFixed(0)} | ${(1000 * t.ms / t.calls).toFixed(0)} |`,
    );
  }
  const other = opts.stepMs - total;
  lines.push(
    `| (outside kernels) | ${other.toFixed(2)} | ${(100 * other / opts.stepMs).toFixed(1)} | – | – |`,
  );
  return lines.join("\n");
}

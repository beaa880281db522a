/**
 * Backend selection for training (`--backend=auto|tensorflow|webgpu|wasm|cpu`).
 *
 * `auto` tries, in order: `tensorflow` (tfjs-node-gpu / tfjs-node, when the user has made them
 * importable), `webgpu` (only with a hardware adapter; software rasterisers such as llvmpipe are
 * slower than the CPU path), `wasm` + the kernel pack (the CPU default), `cpu` + the kernel pack.
 * Every selected backend passes the op-level gradient self-check first ({@link runSelfCheck}).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core alone registers no gradients; tfjs-layers' bundle registers all of them.
import "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import * as wasmBackend from "@tensorflow/tfjs-backend-wasm";
import {
  KERNEL_PACK_VERSION,
  kernelThreadsReady,
  packKernelNames,
  registerKernelPack,
  setKernelThreads,
  simdKernelsAvailable,
} from "../kernels/mod.ts";
import { assertSelfCheck, quietCpuBackend, runSelfCheck, type SelfCheckReport } from "./self_check.ts";
import { attachWebgpuPack, registerWebgpuPack, WEBGPU_PACK_VERSION } from "../kernels/webgpu/mod.ts";
import { tablePrefersWebgpu } from "./gpu_table.ts";

// Replace the stock cpu factory with one that does not print tfjs' Node.js banner.
if (tf.findBackendFactory("cpu") && !tf.findBackend("cpu")) {
  tf.removeBackend("cpu");
  tf.registerBackend("cpu", quietCpuBackend, 1);
}

/** Backends accepted by `--backend`. */
export type BackendName = "auto" | "tensorflow" | "webgpu" | "wasm" | "cpu";

/** All values accepted by `--backend`. */
export const BACKEND_NAMES: readonly BackendName[] = ["auto", "tensorflow", "webgpu", "wasm", "cpu"];

/** What was selected, for run configs. */
export interface BackendInfo {
  /** The active tfjs backend (`tensorflow`, `webgpu`, `wasm` or `cpu`). */
  name: string;
  /** What `--backend` asked for. */
  requested: BackendName;
  /** Kernel pack version when the pack is registered on the active backend, else null. */
  kernelPack: string | null;
  /** Kernels the pack replaced or added on the active backend. */
  packKernels: string[];
  /** WebAssembly SIMD in use (wasm only). */
  simd: boolean;
  /** The pack's own SIMD module (kernels/wasm/pack.wasm) is loaded (wasm only; else JS kernel paths). */
  packSimd: boolean;
  /**
   * Threads the backend computes with: on wasm, the kernel pack's threads (tfjs' own wasm threads
   * cannot start under Deno; XNNPACK's kernels stay on one thread); 1 on cpu.
   */
  threads: number;
  /** tfjs-core version. */
  tfjs: string;
  /** GPU adapter description (webgpu only). */
  adapter?: string;
  /** Self-check summary (absent when skipped). */
  selfCheck?: { ok: boolean; maxRelError: number; ms: number };
  /** Candidates `auto` skipped, with the reason. */
  skipped: string[];
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** The backend to use (default `auto`: tensorflow > webgpu > wasm + kernel pack > cpu). */
  backend?: BackendName;
  /** No log line. */
  quiet?: boolean;
  /** Run the gradient self-check (default true; cached per backend within the process). */
  selfCheck?: boolean;
  /**
   * Whether `auto` may pick WebGPU (default true). Runs of small networks pass false: on an H100,
   * tfjs-webgpu trained mini-Xception 10-13x slower than the CPU engine (docs/engine.md).
   */
  autoWebgpu?: boolean;
  /**
   * The workload to train (backbone and input side, e.g. `mini_xception48`): with a hardware adapter,
   * `auto` picks webgpu when the committed table of measurements (runner/gpu_table.ts) says it is
   * faster than the CPU engine for this workload and GPU class, and the CPU engine when it says
   * slower; without a row, `autoWebgpu` decides.
   */
  workload?: string;
  /** Modules tried for `tensorflow` (default {@link TENSORFLOW_MODULES}; tests pass a stand-in). */
  tensorflowModules?: readonly string[];
  /**
   * Threads of the CPU kernel pack on the wasm backend (default 1): the pack's threaded kernels
   * split their output over this many threads; results are identical for any count. Ignored by
   * the other backends. Training commands pass `--threads` (all cores for a single run).
   */
  threads?: number;
}

const selfChecks = new Map<string, SelfCheckReport>();

/** Software WebGPU adapters (slower than the CPU engine here). */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|basic render/i;

/** Whether a WebGPU adapter description names a software rasteriser (llvmpipe, lavapipe, SwiftShader). */
export function isSoftwareAdapter(description: string): boolean {
  return SOFTWARE_ADAPTER.test(description);
}

/** Throws a one-line error unless `value` is a valid `--backend` value. */
export function parseBackendName(value: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`--backend: unknown value '${value}' (expected ${BACKEND_NAMES.join("|")})`);
}

/** Modules that register tfjs' native `tensorflow` backend, in order of preference. */
export const TENSORFLOW_MODULES: readonly string[] = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];

/** Imports tfjs-node-gpu or tfjs-node if the user made one importable; the specifier when `tensorflow` is registered. */
async function loadTensorflow(specs: readonly string[] = TENSORFLOW_MODULES): Promise<string | null> {
  for (const spec of specs) {
    try {
      // A computed specifier: optional packages outside the import map must not break type checking.
      await import(spec);
      if (tf.findBackendFactory("tensorflow")) return spec;
    } catch {
      // Not installed or its native binding is missing: try the next one.
    }
  }
  return null;
}

interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: Record<string, string>;
}

/** The WebGPU adapter's description, and whether it is a hardware adapter. */
/**
 * wgpu looks for a Wayland/X session while it enumerates adapters and prints "XDG_RUNTIME_DIR is invalid"
 * on headless machines; a private runtime folder keeps that noise out of every run's output.
 */
function quietWgpuProbe(): void {
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR")) return;
    const dir = Deno.makeTempDirSync({ prefix: "xdg-runtime-" });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch { /* no permission to create it: the probe still works, only noisier */ }
}

export async function probeWebgpu(): Promise<{ description: string; hardware: boolean } | null> {
  const gpu =
    (globalThis.navigator as { gpu?: { requestAdapter(): Promise<AdapterLike | null> } } | undefined)
      ?.gpu;
  if (!gpu) return null;
  quietWgpuProbe();
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch {
    return null;
  }
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const description = ["vendor", "architecture", "device", "description"].map((k) => info[k] ?? "")
    .filter((s) => s).join(" ").trim() || "unknown adapter";
  const hardware = !adapter.isFallbackAdapter && !isSoftwareAdapter(description);
  return { description, hardware };
}

async function activate(
  name: "tensorflow" | "webgpu" | "wasm" | "cpu",
  requested: BackendName,
  skipped: string[],
): Promise<BackendInfo> {
  let kernelPack: string | null = null;
  let packKernels: string[] = [];
  if (name === "wasm" || name === "cpu") {
    packKernels = registerKernelPack(name);
    kernelPack = KERNEL_PACK_VERSION;
  } else if (name === "webgpu") {
    packKernels = registerWebgpuPack();
    kernelPack = `webgpu-${WEBGPU_PACK_VERSION}`;
  }
  if (!(await tf.setBackend(name))) throw new Error(`--backend=${name}: tfjs could not initialise it`);
  await tf.ready();
  if (name === "webgpu") attachWebgpuPack();
  const simd = name === "wasm" ? Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) : false;
  const threads = name === "wasm" ? Math.max(wasmBackend.getThreadsCount(), await kernelThreadsReady()) : 1;
  const packSimd = name === "wasm" && simdKernelsAvailable();
  return {
    name,
    requested,
    kernelPack,
    packKernels,
    simd,
    packSimd,
    threads,
    tfjs: tf.version_core,
    skipped,
  };
}

async function checked(info: BackendInfo, opts: InitBackendOptions): Promise<BackendInfo> {
  if (opts.selfCheck === false) return info;
  let report = selfChecks.get(info.name);
  if (!report) {
    report = await runSelfCheck(info.name);
    selfChecks.set(info.name, report);
  }
  info.selfCheck = { ok: report.ok, maxRelError: report.maxRelError, ms: report.ms };
  assertSelfCheck(report);
  return info;
}

/**
 * Selects, initialises and self-checks a backend; returns what was selected for the run config.
 * Throws a one-line error when an explicitly requested backend is unavailable or fails the check.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const requested = parseBackendName(opts.backend ?? "auto");
  setKernelThreads(opts.threads ?? 1);
  const skipped: string[] = [];
  let info: BackendInfo | null = null;
  if (requested === "tensorflow" || requested === "auto") {
    const spec = await loadTensorflow(opts.tensorflowModules);
    if (spec) {
      info = await activate("tensorflow", requested, skipped);
    } else if (requested === "tensorflow") {
      throw new Error(
        "--backend=tensorflow: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is importable " +
          "(add one to deno.json imports and install it with its native binding)",
      );
    } else {
      skipped.push("tensorflow: tfjs-node not importable");
    }
  }
  let tableSays: { webgpu: boolean; reason: string } | null = null;
  if (!info && requested === "auto" && opts.workload) {
    const probe = await probeWebgpu();
    if (probe?.hardware) tableSays = tablePrefersWebgpu(probe.description, opts.workload);
  }
  if (!info && requested === "auto" && tableSays && !tableSays.webgpu) {
    skipped.push(`webgpu: slower than the CPU engine for ${tableSays.reason}`);
  } else if (!info && requested === "auto" && !tableSays && opts.autoWebgpu === false) {
    skipped.push(
      "webgpu: not used by auto for small networks (slower than the CPU engine; --backend=webgpu forces it)",
    );
  } else if (!info && (requested === "webgpu" || requested === "auto")) {
    const probe = await probeWebgpu();
    if (probe && (probe.hardware || requested === "webgpu")) {
      await import("@tensorflow/tfjs-backend-webgpu");
      info = await activate("webgpu", requested, skipped);
      info.adapter = probe.description;
    } else if (requested === "webgpu") {
      throw new Error("--backend=webgpu: navigator.gpu gives no adapter in this runtime");
    } else {
      skipped.push(probe ? `webgpu: software adapter (${probe.description})` : "webgpu: no adapter");
    }
  }
  if (info) {
    info = await checkedOrSkip(info, opts, requested, skipped);
  }
  if (!info && (requested === "wasm" || requested === "auto")) {
    let wasm: BackendInfo | null = null;
    try {
      wasm = await activate("wasm", requested, skipped);
    } catch (e) {
      // With auto, a wasm backend that cannot start (no read permission for its .wasm) falls back to cpu.
      if (requested !== "auto" || !(e instanceof Error)) throw e;
      skipped.push(`wasm: ${e.message}`);
    }
    if (wasm) info = await checkedOrSkip(wasm, opts, requested, skipped);
  }
  if (!info && (requested === "cpu" || requested === "auto")) {
    info = await checked(await activate("cpu", requested, skipped), opts);
  }
  if (!info) throw new Error(`--backend=${requested}: no backend could be initialised`);
  if (!opts.quiet) {
    const sc = info.selfCheck
      ? ` self-check ok (max rel ${info.selfCheck.maxRelError.toExponential(1)})`
      : "";
    const pack = info.kernelPack
      ? ` kernel-pack ${info.kernelPack} (${info.packKernels.length} kernels)`
      : "";
    console.error(
      `backend ${info.name}${pack} simd=${info.simd} pack-simd=${info.packSimd} threads=${info.threads}` +
        `${info.adapter ? ` adapter="${info.adapter}"` : ""}${sc}`,
    );
  }
  return info;
}

/** With `auto`, a backend that fails its self-check is skipped (logged in `skipped`); explicit requests throw. */
async function checkedOrSkip(
  info: BackendInfo,
  opts: InitBackendOptions,
  requested: BackendName,
  skipped: string[],
): Promise<BackendInfo | null> {
  try {
    return await checked(info, opts);
  } catch (e) {
    if (requested !== "auto" || !(e instanceof Error)) throw e;
    skipped.push(`${info.name}: ${e.message}`);
    return null;
  }
}

/** Kernel names the pack would register on a backend (for run configs and docs). */
export function kernelPackFor(name: "wasm" | "cpu"): string[] {
  return packKernelNames(name);
}

/**
 * Measured training throughput of WebGPU against the CPU engine, per model and GPU class: the table
 * `--backend=auto` reads to decide whether a hardware WebGPU adapter is worth using. Rows come from
 * `bench/gpu_check.ts` (its JSON prints the row to add) or from the WebGPU probe; a workload with no
 * row for the adapter's class keeps the caller's default. `--backend=webgpu|wasm` always overrides.
 * @module
 */

/** One measurement. */
export interface GpuTableRow {
  /** GPU class (see {@link GPU_CLASSES}). */
  gpuClass: string;
  /** Workload key: backbone and input side, e.g. `mini_xception48`, `vggFace224`. */
  workload: string;
  /** Training images per second on webgpu (batch 32). */
  webgpuImgPerSec: number;
  /** Training images per second of the CPU engine on the machine the GPU is in (or this project's reference machine). */
  cpuImgPerSec: number;
  /** WebGPU pack version the webgpu figure was measured with (null: tfjs-webgpu as shipped). */
  webgpuPack: string | null;
  /** Where the figures come from. */
  source: string;
}

/** GPU classes: an adapter description matching `match` belongs to the class. */
export const GPU_CLASSES: readonly { gpuClass: string; match: RegExp }[] = [
  { gpuClass: "nvidia-hopper", match: /\bH100\b|\bH200\b|\bGH200\b/i },
  { gpuClass: "nvidia-ampere-dc", match: /\bA100\b|\bA800\b/i },
];

/** The committed measurements. */
export const GPU_TABLE: readonly GpuTableRow[] = [
  {
    gpuClass: "nvidia-hopper",
    workload: "mini_xception48",
    webgpuImgPerSec: 16.8,
    cpuImgPerSec: 224.9,
    webgpuPack: null,
    source: "docs/webgpu_h100_probe.log (H100, tfjs-webgpu as shipped); CPU: docs/engine.md wasm + pack",
  },
  {
    gpuClass: "nvidia-hopper",
    workload: "mini_xception64",
    webgpuImgPerSec: 10.3,
    cpuImgPerSec: 125.1,
    webgpuPack: null,
    source: "docs/webgpu_h100_probe.log (H100, tfjs-webgpu as shipped); CPU: docs/engine.md wasm + pack",
  },
  {
    gpuClass: "nvidia-hopper",
    workload: "mini_xception48",
    webgpuImgPerSec: 169.1,
    cpuImgPerSec: 156.1,
    webgpuPack: "webgpu-0.1.0",
    source: "bench/gpu_check.ts on 4318 9013 NVIDIA H200 (2026-11-30); CPU: the same host, 1 thread",
  },
  {
    gpuClass: "nvidia-hopper",
    workload: "mini_xception64",
    webgpuImgPerSec: 95.9,
    cpuImgPerSec: 73.2,
    webgpuPack: "webgpu-0.1.0",
    source: "bench/gpu_check.ts on 4318 9013 NVIDIA H200 (2026-11-30); CPU: the same host, 1 thread",
  },
];

/** The GPU class of an adapter description, or null when no class matches. */
export function gpuClassOf(adapter: string): string | null {
  return GPU_CLASSES.find((c) => c.match.test(adapter))?.gpuClass ?? null;
}

/**
 * Whether the table says webgpu trains `workload` faster than the CPU engine on `adapter`:
 * true/false with the row's reason, or null when the table has no row for them. With several rows
 * (older and newer packs), the newest pack's row decides (rows later in the table are newer).
 */
export function tablePrefersWebgpu(
  adapter: string,
  workload: string,
  table: readonly GpuTableRow[] = GPU_TABLE,
): { webgpu: boolean; reason: string } | null {
  const cls = gpuClassOf(adapter);
  if (!cls) return null;
  const rows = table.filter((r) => r.gpuClass === cls && r.workload === workload);
  const row = rows.at(-1);
  if (!row) return null;
  const webgpu = row.webgpuImgPerSec > row.cpuImgPerSec;
  return {
    webgpu,
    reason: `${workload} on ${cls}: webgpu ${row.webgpuImgPerSec} img/s vs CPU ${row.cpuImgPerSec} img/s ` +
      `(runner/gpu_table.ts)`,
  };
}

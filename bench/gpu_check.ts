/**
 * `deno task gpu-check`: what the toolkit's WebGPU training does on this machine's GPU, in under 5
 * minutes. Each part runs in its own Deno process with its own time limit (a hung or crashed part
 * costs only its own time), and the JSON report is rewritten after every part, so a cut run still
 * tells something. Parts, most important first:
 *
 * | part | what | target (H100/H200 class) |
 * |---|---|---|
 * | adapter | adapter, limits, Deno version | a hardware adapter |
 * | submit | cost of one queue submit, one dispatch per submit vs all dispatches in one | – |
 * | profile | GPU ms per kernel of one xception64 and one vggface224 training step (a profile, not a throughput) | – |
 * | xception64 | mini-Xception 64 px batch 32 training, WebGPU pack, queue counters | ≥ 1,900 img/s |
 * | vggface224 | project VGGFace 224 px batch 32 training, WebGPU pack | ≥ 150 img/s |
 * | xception48 | mini-Xception 48 px batch 32, WebGPU pack | – |
 * | xception48-stock | the same with tfjs-webgpu as shipped (the "before") | – |
 * | cpu-xception64, cpu-xception48 | the CPU engine (wasm + kernel pack) on this machine, for the table | – |
 * | compare | `deno task compare --profile=quick --backend=webgpu`, only if xception64 beats the CPU | – |
 *
 * The report also lists runner/gpu_table.ts rows to commit (`tableRows`), so `--backend=auto` learns
 * from the measurement.
 *
 * On a machine with this checkout and its node_modules: `deno task gpu-check [--out=gpu_check.json]`.
 * Elsewhere it needs only a Deno binary: bundle it here, copy the one file, run it there:
 *
 *   deno bundle --platform=deno -o gpu_check.js bench/gpu_check.ts
 *   deno run -A gpu_check.js --out=gpu_check.json [--budget=290] [--parts=adapter,submit,...] [--allow-software]
 *
 * (the bundle holds every npm package it imports; bench/gpu_check_prepare.sh puts it, a Deno binary,
 * libvulkan and the wasm binaries in .cache/gpu/; only the `compare` part needs the checkout.)
 *
 * The `profile` part takes `--profile-models=xception64,vggface224`, `--profile-batch=32`, `--profile-size=N`
 * (default: each model's own) and `--profile-steps=1`. Flags are read as the toolkit's commands read them
 * (runner/cli.ts; the dashed flags may also be spelt with `_`, `--allow_software`): `--help` lists them
 * (`--help --json` as JSON); a misspelt flag or a bad value is one `error:` line and exit status 2.
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bool, num, OptionError, type Options, type OptionSpec, str } from "../core/options.ts";
import { exitCodeOf, isUserError } from "../core/user_errors.ts";
import { benchFormat, benchJson } from "./_bench_json.ts";
import { parseCommandArgs } from "../runner/cli.ts";
import { useWasmFilesBesideBundle } from "./_bundle_wasm.ts";
import { formatKernelGpuRows, type KernelGpuRow } from "./webgpu_profile.ts";

/** Parts in run order, with their own time limit in seconds. */
export const PARTS: readonly { name: string; timeoutS: number }[] = [
  { name: "adapter", timeoutS: 30 },
  { name: "submit", timeoutS: 30 },
  { name: "profile", timeoutS: 90 },
  { name: "xception64", timeoutS: 60 },
  { name: "vggface224", timeoutS: 90 },
  { name: "xception48", timeoutS: 45 },
  { name: "xception48-stock", timeoutS: 45 },
  { name: "cpu-xception64", timeoutS: 45 },
  { name: "cpu-xception48", timeoutS: 30 },
  { name: "compare", timeoutS: 240 },
];

/** The issue's targets (img/s, batch 32) on an H100/H200-class GPU. */
export const TARGETS: Record<string, number> = { xception64: 1900, vggface224: 150 };

/** One part's outcome in the report. */
export interface PartResult {
  part: string;
  status: "ok" | "failed" | "timeout" | "skipped";
  seconds: number;
  result?: Record<string, unknown>;
  error?: string;
}

/** The report written after every part. */
export interface GpuCheckReport {
  /** `sa-mtl-bench-gpu-check/<version>` (bench/_bench_json.ts). */
  format: string;
  startedAt: string;
  finishedAt?: string;
  deno: string;
  budgetS: number;
  parts: PartResult[];
  targets: Record<string, { target: number; imgPerSec: number | null; met: boolean | null }>;
  /** Rows for runner/gpu_table.ts from this run's figures. */
  tableRows: Record<string, unknown>[];
}

const TRAIN_PARTS: Record<
  string,
  { key: string; model: string; size: number; channels: number; steps: number }
> = {
  xception64: { key: "xception64", model: "mini_xception", size: 64, channels: 1, steps: 10 },
  xception48: { key: "xception48", model: "mini_xception", size: 48, channels: 1, steps: 10 },
  "xception48-stock": { key: "xception48", model: "mini_xception", size: 48, channels: 1, steps: 3 },
  vggface224: { key: "project-vggface224", model: "project:vggFace", size: 224, channels: 3, steps: 3 },
  "cpu-xception64": { key: "xception64", model: "mini_xception", size: 64, channels: 1, steps: 3 },
  "cpu-xception48": { key: "xception48", model: "mini_xception", size: 48, channels: 1, steps: 3 },
};

/** Settings of the `profile` part (`--profile-*` flags, passed on to its process). */
export interface ProfileOptions {
  /** TRAIN_PARTS keys of the models to profile. */
  models: string[];
  batch: number;
  /** Image size for every model (default: each model's own). */
  size: number | null;
  /** Profiled steps per model. */
  steps: number;
}

/** Default `--profile-models`. */
export const PROFILE_MODELS = ["xception64", "vggface224"];

/** Models `--profile-models` accepts: the webgpu training parts. */
const PROFILE_MODEL_CHOICES = ["xception64", "xception48", "vggface224"];

/** Parses the `--profile-*` flags; throws naming the flag. */
export function parseProfileOptions(
  v: { models?: string; batch?: string; size?: string; steps?: string },
): ProfileOptions {
  const models = (v.models ?? PROFILE_MODELS.join(",")).split(",").map((s) => s.trim()).filter((s) => s);
  for (const m of models) {
    if (!TRAIN_PARTS[m] || m.startsWith("cpu-") || m.endsWith("-stock")) {
      throw new OptionError(
        `--profile-models: unknown model '${m}' (expected ${PROFILE_MODEL_CHOICES.join("|")})`,
      );
    }
  }
  const int = (flag: string, s: string | undefined, dflt: number) => {
    if (s === undefined || s === "") return dflt;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) {
      throw new OptionError(`--${flag}: expected a positive integer (got '${s}')`);
    }
    return n;
  };
  return {
    models,
    batch: int("profile-batch", v.batch, 32),
    size: v.size ? int("profile-size", v.size, 0) : null,
    steps: int("profile-steps", v.steps, 1),
  };
}

/** The `--profile-*` flags that give `o` (for the part's own process). */
export function profileArgs(o: ProfileOptions): string[] {
  return [
    `--profile-models=${o.models.join(",")}`,
    `--profile-batch=${o.batch}`,
    ...(o.size ? [`--profile-size=${o.size}`] : []),
    `--profile-steps=${o.steps}`,
  ];
}

/**
 * GPU time per kernel of training steps (bench/webgpu_profile.ts), per model: warm-up, one unprofiled
 * timed step for the real wall time, then `steps` profiled steps. Prints the result so far after each
 * model (the parent keeps the last line, also from a part cut by its time limit).
 */
async function profilePart(o: ProfileOptions): Promise<Record<string, unknown>> {
  const tf = await import("@tensorflow/tfjs-core");
  const { initBackend } = await import("../runner/backend.ts");
  const { prepareBench } = await import("./train_bench.ts");
  const { installGpuProfiler, summarizeDispatchTimes } = await import("./webgpu_profile.ts");
  const info = await initBackend({ backend: "webgpu", quiet: true });
  // Validation or memory errors make a step a no-op that "runs" in no GPU time: count them, so such a
  // profile reads as broken rather than fast.
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const errors: string[] = [];
  let errorCount = 0;
  device.addEventListener("uncapturederror", (e) => {
    errorCount++;
    if (errors.length < 3) errors.push(String((e as GPUUncapturedErrorEvent).error?.message ?? e));
  });
  const out: Record<string, unknown> = {
    note: "a profile, not a throughput figure: every dispatch runs in its own compute pass, timed by " +
      "GPU timestamps at the pass's begin and end (one submit per step as usual); totalMsPerStep sums " +
      "them, gpuSpanMsPerStep is first begin to last end, wallMsPerStep is an unprofiled step",
    adapter: info.adapter ?? null,
    kernelPack: info.kernelPack,
    batch: o.batch,
    models: {},
  };
  const models = out.models as Record<string, unknown>;
  for (const name of o.models) {
    const spec = TRAIN_PARTS[name];
    const size = o.size ?? spec.size;
    errorCount = 0;
    errors.length = 0;
    const t0 = performance.now();
    const prepared = await prepareBench(
      { key: spec.key, model: spec.model as never, size, channels: spec.channels, peer: null },
      { batch: o.batch, warmup: 2 },
    );
    const warmupMs = performance.now() - t0;
    const wallMsPerStep = await prepared.time(1);
    const profiler = installGpuProfiler(tf.backend());
    const dispatches = [];
    let untimed = 0;
    let spanMs = 0;
    let profiledWallMs = 0;
    try {
      for (let s = 0; s < o.steps; s++) {
        profiler.start();
        const w0 = performance.now();
        await prepared.time(1);
        profiledWallMs += performance.now() - w0;
        const p = await profiler.stop();
        dispatches.push(...p.dispatches);
        untimed += p.untimed;
        spanMs += p.spanMs;
      }
    } finally {
      profiler.uninstall();
      prepared.dispose();
    }
    const summary = summarizeDispatchTimes(dispatches, { steps: o.steps, top: 25 });
    models[name] = {
      model: spec.key,
      size,
      batch: o.batch,
      clock: profiler.clock,
      profiledSteps: o.steps,
      wallMsPerStep,
      imgPerSec: o.batch * 1000 / wallMsPerStep,
      profiledWallMsPerStep: profiledWallMs / o.steps,
      gpuSpanMsPerStep: spanMs / o.steps,
      untimedPerStep: untimed / o.steps,
      warmupMs,
      gpuErrors: errorCount,
      ...(errors.length ? { firstGpuErrors: errors.slice() } : {}),
      ...summary,
    };
    console.log(JSON.stringify(out));
  }
  return out;
}

/** The stderr tables of a `profile` part result. */
export function formatProfileResult(result: Record<string, unknown>): string {
  const parts: string[] = [];
  const models = (result.models ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, m] of Object.entries(models)) {
    const f = (k: string) => typeof m[k] === "number" ? (m[k] as number).toFixed(1) : "?";
    const head =
      `${name} (${m.size} px, batch ${m.batch}, clock ${m.clock}): wall ${f("wallMsPerStep")} ms/step ` +
      `unprofiled (${f("imgPerSec")} img/s), ${f("profiledWallMsPerStep")} profiled; ` +
      `GPU sum ${f("totalMsPerStep")} ms over ${f("dispatchesPerStep")} dispatches, span ${
        f("gpuSpanMsPerStep")
      } ms` + (m.gpuErrors
        ? `; ${m.gpuErrors} GPU ERRORS, the times are not valid: ${(m.firstGpuErrors as string[])[0]}`
        : "");
    parts.push(formatKernelGpuRows(head, m.byShape as KernelGpuRow[]));
    parts.push(formatKernelGpuRows(`${name} by kernel`, m.byKernel as KernelGpuRow[]));
  }
  return parts.join("\n\n");
}

/** Runs one part in this process and returns its result object. */
async function runPart(
  name: string,
  repoRoot: string,
  profile: ProfileOptions,
): Promise<Record<string, unknown>> {
  if (name === "adapter") return await adapterPart();
  if (name === "submit") return await submitPart();
  if (name === "profile") return await profilePart(profile);
  if (name === "compare") return await comparePart(repoRoot);
  const spec = TRAIN_PARTS[name];
  if (!spec) throw new Error(`--part: unknown part '${name}'`);
  const { initBackend } = await import("../runner/backend.ts");
  const { benchModel } = await import("./train_bench.ts");
  const { unregisterWebgpuPack } = await import("../kernels/webgpu/mod.ts");
  const cpu = name.startsWith("cpu-");
  if (cpu) await useWasmFilesBesideBundle();
  const t0 = performance.now();
  const info = await initBackend({ backend: cpu ? "wasm" : "webgpu", quiet: true });
  const initMs = performance.now() - t0;
  if (name.endsWith("-stock")) unregisterWebgpuPack();
  const f0 = performance.now();
  const row = await benchModel(
    { key: spec.key, model: spec.model as never, size: spec.size, channels: spec.channels, peer: null },
    { batch: 32, steps: spec.steps, warmup: 2, backend: info.name },
  );
  return {
    ...row,
    mode: cpu ? "cpu" : name.endsWith("-stock") ? "stock" : "pack",
    adapter: info.adapter ?? null,
    kernelPack: info.kernelPack,
    selfCheck: info.selfCheck ?? null,
    initMs,
    totalMs: performance.now() - f0,
  };
}

async function adapterPart(): Promise<Record<string, unknown>> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) throw new Error("navigator.gpu is missing in this Deno");
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("navigator.gpu.requestAdapter() gave no adapter (no Vulkan driver?)");
  const { isSoftwareAdapter } = await import("../runner/backend.ts");
  const { gpuClassOf } = await import("../runner/gpu_table.ts");
  const info = adapter.info as unknown as Record<string, unknown>;
  const description = ["vendor", "architecture", "device", "description"].map((k) => info[k] ?? "")
    .filter((s) => s).join(" ");
  const limits: Record<string, number> = {};
  for (
    const k of [
      "maxStorageBuffersPerShaderStage",
      "maxComputeWorkgroupStorageSize",
      "maxComputeInvocationsPerWorkgroup",
      "maxComputeWorkgroupsPerDimension",
      "maxStorageBufferBindingSize",
      "maxBufferSize",
    ]
  ) limits[k] = (adapter.limits as unknown as Record<string, number>)[k];
  return {
    description,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    isFallbackAdapter: info.isFallbackAdapter ??
      (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? null,
    software: isSoftwareAdapter(description),
    gpuClass: gpuClassOf(description),
    features: [...adapter.features],
    limits,
  };
}

/**
 * What a submit costs: `n` one-dispatch command buffers submitted one by one, against the same `n`
 * dispatches in one command buffer, each waited for with onSubmittedWorkDone.
 */
async function submitPart(n = 200): Promise<Record<string, unknown>> {
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("no adapter");
  const device = await adapter.requestDevice();
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> a: array<f32>;
      @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
        if (g.x < arrayLength(&a)) { a[g.x] = a[g.x] + 1.0; } }`,
  });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const buf = device.createBuffer({ size: 4 * 4096, usage: GPUBufferUsage.STORAGE });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: buf } }],
  });
  const record = (enc: GPUCommandEncoder, k: number) => {
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    for (let i = 0; i < k; i++) pass.dispatchWorkgroups(64);
    pass.end();
  };
  // Warm up the pipeline and the queue.
  const w = device.createCommandEncoder();
  record(w, 1);
  device.queue.submit([w.finish()]);
  await device.queue.onSubmittedWorkDone();
  let inSubmit = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const enc = device.createCommandEncoder();
    record(enc, 1);
    const cb = enc.finish();
    const s = performance.now();
    device.queue.submit([cb]);
    inSubmit += performance.now() - s;
  }
  await device.queue.onSubmittedWorkDone();
  const separateMs = performance.now() - t0;
  const t1 = performance.now();
  const enc = device.createCommandEncoder();
  record(enc, n);
  const s1 = performance.now();
  device.queue.submit([enc.finish()]);
  const oneSubmitMs = performance.now() - s1;
  await device.queue.onSubmittedWorkDone();
  const batchedMs = performance.now() - t1;
  let roundTrip = Infinity;
  for (let i = 0; i < 5; i++) {
    const r0 = performance.now();
    device.queue.submit([]);
    await device.queue.onSubmittedWorkDone();
    roundTrip = Math.min(roundTrip, performance.now() - r0);
  }
  device.destroy();
  return {
    dispatches: n,
    separateSubmits: { wallMs: separateMs, msInSubmitEach: inSubmit / n, wallMsPerSubmit: separateMs / n },
    oneSubmit: { wallMs: batchedMs, msInSubmit: oneSubmitMs, wallMsPerDispatch: batchedMs / n },
    emptySubmitRoundTripMs: roundTrip,
  };
}

/** `deno task compare --profile=quick --backend=webgpu` in the checkout, time-limited by the parent. */
async function comparePart(repoRoot: string): Promise<Record<string, unknown>> {
  const out = await Deno.makeTempDir({ prefix: "gpu-check-compare-" });
  const t0 = performance.now();
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compare", "--profile=quick", "--backend=webgpu", `--out=${out}`],
    cwd: repoRoot,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const tail = (b: Uint8Array) => new TextDecoder().decode(b).split("\n").slice(-15).join("\n");
  if (!res.success) throw new Error(`compare exited ${res.code}: ${tail(res.stderr)}`);
  return {
    ms: performance.now() - t0,
    outDir: out,
    stdoutTail: tail(res.stdout),
    stderrTail: tail(res.stderr),
  };
}

/** Writes `text` to `path` atomically (temporary file, then rename). */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** Targets met, and runner/gpu_table.ts rows, from the parts so far. */
export function summarize(parts: PartResult[]): Pick<GpuCheckReport, "targets" | "tableRows"> {
  const get = (name: string) => parts.find((p) => p.part === name && p.status === "ok")?.result;
  const targets: GpuCheckReport["targets"] = {};
  for (const [name, target] of Object.entries(TARGETS)) {
    const r = get(name);
    const ips = typeof r?.imgPerSec === "number" ? r.imgPerSec : null;
    targets[name] = { target, imgPerSec: ips, met: ips === null ? null : ips >= target };
  }
  const adapter = get("adapter");
  const tableRows: Record<string, unknown>[] = [];
  const gpuClass = adapter?.gpuClass ?? null;
  for (const [name, workload] of [["xception64", "mini_xception64"], ["xception48", "mini_xception48"]]) {
    const r = get(name);
    const cpu = get(`cpu-${name}`);
    if (!r || !gpuClass) continue;
    tableRows.push({
      gpuClass,
      workload,
      webgpuImgPerSec: Number((r.imgPerSec as number).toFixed(1)),
      cpuImgPerSec: cpu ? Number((cpu.imgPerSec as number).toFixed(1)) : null,
      webgpuPack: r.kernelPack,
      source: `bench/gpu_check.ts on ${adapter?.description}`,
    });
  }
  return { targets, tableRows };
}

/** Flags of `deno task gpu-check`. */
export const GPU_CHECK_OPTIONS: OptionSpec[] = [
  {
    name: "out",
    type: "string",
    default: "gpu_check.json",
    help: "The JSON report, rewritten after every part.",
  },
  {
    name: "budget",
    type: "float",
    default: 290,
    min: 1,
    help: "Seconds for all parts together; a part is skipped with under 5 s left.",
  },
  {
    name: "parts",
    type: "list",
    default: PARTS.map((p) => p.name),
    choices: PARTS.map((p) => p.name),
    help: "Parts to run (always in the check's own order: adapter, submit, profile, ...).",
  },
  {
    name: "allow-software",
    aliases: ["allow_software"],
    type: "boolean",
    default: false,
    help: "Run the GPU parts on a software rasteriser too (else they are skipped: minutes per step).",
  },
  {
    name: "profile-models",
    aliases: ["profile_models"],
    type: "list",
    default: PROFILE_MODELS,
    choices: PROFILE_MODEL_CHOICES,
    help: "Models of the profile part.",
  },
  {
    name: "profile-batch",
    aliases: ["profile_batch"],
    type: "int",
    default: 32,
    min: 1,
    help: "Batch of the profile part.",
  },
  {
    name: "profile-size",
    aliases: ["profile_size"],
    type: "int",
    min: 1,
    help: "Image size of every model of the profile part (default: each model's own).",
  },
  {
    name: "profile-steps",
    aliases: ["profile_steps"],
    type: "int",
    default: 1,
    min: 1,
    help: "Profiled steps per model of the profile part.",
  },
  {
    name: "part",
    type: "enum",
    choices: PARTS.map((p) => p.name),
    help: "Internal: run this one part here and print its result (the check starts each part so).",
  },
  // Declared here rather than taken from runner/schema.ts's COMMON_OPTIONS: the check reads only these two
  // (--json shapes only the help and error output; the check's stdout is JSON already).
  {
    name: "json",
    type: "boolean",
    default: false,
    help: "With --help: the help as JSON (the check's own stdout is JSON already).",
  },
  { name: "help", type: "boolean", default: false, help: "Print this help and exit." },
];

/** One-line usage of `deno task gpu-check` (the head of its `--help`). */
const USAGE = "deno task gpu-check [--out=gpu_check.json] [--budget=290] [--parts=adapter,submit,...] " +
  "[--allow-software]: the GPU check, each part in its own process with its own time limit";

/** The profile part's settings from the parsed flags. */
export function profileOptionsOf(o: Options): ProfileOptions {
  const size = o["profile-size"];
  return parseProfileOptions({
    models: (o["profile-models"] as string[]).join(","),
    batch: String(num(o, "profile-batch")),
    size: size === undefined ? undefined : String(size),
    steps: String(num(o, "profile-steps")),
  });
}

/**
 * `deno task gpu-check`; returns the exit code: 0 when every part ran (a part's failure is in the report).
 * With `--part=NAME` (how the check starts each part) it runs that part here and prints its result as the
 * last stdout line, or one `error:` line and exit status 1 when the part fails. Bad flags throw an
 * OptionError (exit 2 under {@link exitCodeOf}).
 */
export async function gpuCheckMain(args: string[]): Promise<number> {
  const o = parseCommandArgs(args, GPU_CHECK_OPTIONS, USAGE);
  if (!o) return 0;
  const profile = profileOptionsOf(o);
  const here = fileURLToPath(import.meta.url);
  const repoRoot = dirname(dirname(here));
  if (typeof o.part === "string") {
    // Child: run one part, print its result as the last stdout line. A failure is one message (the parent
    // keeps the last lines of stderr in the report), not a stack trace.
    try {
      const result = await runPart(o.part, repoRoot, profile);
      console.log(JSON.stringify(result));
      return 0;
    } catch (e) {
      if (isUserError(e)) throw e;
      console.error(`error: ${e instanceof Error ? e.message : e}`);
      return 1;
    }
  }
  const budgetS = num(o, "budget");
  const wanted = o.parts as string[];
  const outPath = str(o, "out");
  const allowSoftware = bool(o, "allow-software");
  const deadline = performance.now() + budgetS * 1000;
  const report: GpuCheckReport = {
    format: benchFormat("gpu-check"),
    startedAt: new Date().toISOString(),
    deno: Deno.version.deno,
    budgetS,
    parts: [],
    targets: {},
    tableRows: [],
  };
  const save = async () => {
    Object.assign(report, summarize(report.parts));
    await writeAtomic(outPath, JSON.stringify(report, null, 2) + "\n");
  };
  await save();
  for (const part of PARTS.filter((p) => wanted.includes(p.name))) {
    const left = (deadline - performance.now()) / 1000;
    const r: PartResult = { part: part.name, status: "skipped", seconds: 0 };
    if (part.name === "compare") {
      const x = report.parts.find((p) => p.part === "xception64")?.result;
      const c = report.parts.find((p) => p.part === "cpu-xception64")?.result;
      if (!x || !c || (x.imgPerSec as number) <= (c.imgPerSec as number)) {
        r.error = "the webgpu step does not beat the CPU engine here (or was not measured)";
        report.parts.push(r);
        await save();
        console.error(`gpu-check: ${part.name} skipped: ${r.error}`);
        continue;
      }
    }
    const adapter = report.parts.find((p) => p.part === "adapter");
    const software = adapter?.status === "ok" && adapter.result?.software === true;
    if (software && !allowSoftware && !part.name.startsWith("cpu-") && part.name !== "submit") {
      // Training on a software rasteriser takes minutes per step: the GPU parts would only time out.
      r.error = `the adapter is a software rasteriser (${adapter?.result?.description}); ` +
        "is the NVIDIA Vulkan driver (nvidia_icd.json) installed? --allow-software runs it anyway";
      report.parts.push(r);
      await save();
      console.error(`gpu-check: ${part.name} skipped: ${r.error}`);
      continue;
    }
    if (left < 5) {
      r.error = "no time left in --budget";
      report.parts.push(r);
      await save();
      console.error(`gpu-check: ${part.name} skipped: ${r.error}`);
      continue;
    }
    const limit = Math.min(part.timeoutS, left);
    console.error(`gpu-check: ${part.name} (limit ${limit.toFixed(0)} s)`);
    const t0 = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        here,
        `--part=${part.name}`,
        ...(part.name === "profile" ? profileArgs(profile) : []),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, limit * 1000);
    const out = await child.output();
    clearTimeout(timer);
    r.seconds = (performance.now() - t0) / 1000;
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
    if (timedOut) {
      r.status = "timeout";
      r.error = `killed after ${limit.toFixed(0)} s`;
      // A part that prints its result so far (profile) keeps what it finished.
      try {
        r.result = JSON.parse(text);
      } catch { /* nothing finished */ }
    } else if (out.success) {
      try {
        r.result = JSON.parse(text);
        r.status = "ok";
      } catch {
        r.status = "failed";
        r.error = `no JSON result line: ${text.slice(0, 200)}`;
      }
    } else {
      r.status = "failed";
      r.error = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-6).join("\n");
    }
    report.parts.push(r);
    await save();
    if (part.name === "profile" && r.result) console.error(formatProfileResult(r.result));
    const ips = typeof r.result?.imgPerSec === "number"
      ? ` ${(r.result.imgPerSec as number).toFixed(1)} img/s`
      : "";
    console.error(
      `gpu-check: ${part.name} ${r.status} in ${r.seconds.toFixed(1)} s${ips}${
        r.error ? `: ${r.error}` : ""
      }`,
    );
  }
  report.finishedAt = new Date().toISOString();
  await save();
  console.log(benchJson("gpu-check-targets", { targets: report.targets, tableRows: report.tableRows }));
  return 0;
}

if (import.meta.main) Deno.exit(await exitCodeOf(gpuCheckMain, Deno.args));

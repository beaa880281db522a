/**
 * `deno task bench:train`: training throughput (forward + backward + Adam, batch 32 by default) of
 * the mini-Xception (48×48×1 and 64×64×1) and the small VGG (64×64×3) per backend; the PyTorch peer
 * (shared/peer/torch_mini_xception.py) with the same settings and thread count when /usr/bin/python3
 * has torch; GFLOP/s of the VGG step against a measured peak GEMM rate.
 *
 *   deno task bench:train [--steps=10] [--warmup=2] [--batch=32] [--repeats=3] [--threads=1,all]
 *                         [--models=xception48,xception64,vgg64,project-xception64,project-vggface64]
 *                         [--backend=auto|wasm|cpu|...[,more]] [--peer=auto|off|PATH.py]
 *                         [--breakdown [--by-shape]] [--clock=wall|cpu] [--json] [--quiet] [--help]
 *
 * Each (backend, threads, model) is measured `--repeats` times, alternated with the PyTorch peer at
 * the same thread count, and the best of each is reported. `--breakdown` adds the time per kernel
 * type per step (separate, profiled steps). `--clock=cpu` (one thread only) times ours and the peer in
 * process CPU time instead of wall time: the fair single-thread comparison on a machine other work
 * shares.
 *
 * Flags are read as the toolkit's commands read them (runner/cli.ts): `--help` lists them (`--help --json`
 * as JSON); a misspelt flag or a bad value is one `error:` line and exit status 2.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { BACKEND_NAMES, type BackendInfo, type BackendName, initBackend } from "../runner/backend.ts";
import { parseCommandArgs } from "../runner/cli.ts";
import { COMMON_OPTIONS } from "../runner/schema.ts";
import { bool, num, OptionError, type OptionSpec, str } from "../core/options.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { benchJson } from "./_bench_json.ts";
import { installWebgpuCounters, stepFields, type WebgpuStepFields } from "./webgpu_counters.ts";
import { clockMs, formatBreakdown, type ProfileClock, profileKernels } from "./_breakdown.ts";
import { buildModel } from "../models/mod.ts";
import type { BackboneName, TaskSpec } from "../core/types.ts";
import {
  buildTestModel,
  disposeBatch,
  randomBatch,
  type TestBatch,
  type TestModelName,
} from "./_test_models.ts";

/** A benchmark model configuration. */
export interface BenchModel {
  key: string;
  /** A test model of bench/_test_models.ts, or `project:<backbone>` built by models/mod.ts. */
  model: TestModelName | `project:${BackboneName}`;
  size: number;
  channels: number;
  /** The PyTorch peer script that implements this model (none: no peer). */
  peer: "mini_xception" | "vgg16" | null;
}

/** Models selectable with `--models`. */
export const BENCH_MODELS: readonly BenchModel[] = [
  { key: "xception48", model: "mini_xception", size: 48, channels: 1, peer: "mini_xception" },
  { key: "xception64", model: "mini_xception", size: 64, channels: 1, peer: "mini_xception" },
  { key: "vgg64", model: "small_vgg", size: 64, channels: 3, peer: null },
  { key: "project-xception64", model: "project:mini_xception", size: 64, channels: 1, peer: "mini_xception" },
  { key: "project-vggface64", model: "project:vggFace", size: 64, channels: 3, peer: "vgg16" },
];

/** Models run when `--models` is not given (the VGG16-trunk project model is opt-in: minutes per step). */
export const DEFAULT_MODELS = ["xception48", "xception64", "vgg64", "project-xception64"];

/** A model ready for timing: forward pass to per-head logits, its variables and its layers model. */
interface StepModel {
  forward(x: tf.Tensor4D): tf.Tensor[];
  vars: tf.Variable[];
  layers: tfl.LayersModel;
}

const HEADS: TaskSpec[] = [
  { name: "emotion", classes: 7, labels: ["0", "1", "2", "3", "4", "5", "6"] },
  { name: "pose", classes: 5, labels: ["0", "1", "2", "3", "4"] },
];

function stepModel(m: BenchModel): StepModel {
  if (m.model.startsWith("project:")) {
    const backbone = m.model.slice("project:".length) as BackboneName;
    const built = buildModel({
      backbone,
      tasks: HEADS,
      inputShape: [m.size, m.size, m.channels],
      seed: 1,
      head: backbone === "vggFace" ? "branch" : "conv",
    });
    return {
      forward: (x) => {
        const out = built.apply(x, true);
        return HEADS.map((h) => {
          const l = out.logits[h.name];
          if (!l) throw new Error(`models/mod.ts ${backbone}: no logits for ${h.name}`);
          return l;
        });
      },
      vars: built.trainableWeights(),
      layers: built.model,
    };
  }
  const model = buildTestModel(m.model as TestModelName, { size: m.size, channels: m.channels, seed: 1 });
  return {
    forward: (x) => model.apply(x, { training: true }) as tf.Tensor[],
    vars: model.trainableWeights.map((w) => w.read() as tf.Variable),
    layers: model,
  };
}

async function timedStep(model: StepModel, batch: TestBatch, optimizer: tf.Optimizer): Promise<void> {
  const loss = optimizer.minimize(
    () => {
      const logits = model.forward(batch.x);
      return tf.addN(logits.map((l, i) => tf.losses.softmaxCrossEntropy(batch.y[i], l))) as tf.Scalar;
    },
    true,
    model.vars,
  );
  if (!loss) throw new Error("bench: optimizer returned no loss");
  await loss.data();
  loss.dispose();
}

/**
 * One row of the result table (also the `--json` row); webgpu rows also carry the queue counters of
 * bench/webgpu_counters.ts.
 */
export interface BenchRow extends Partial<WebgpuStepFields> {
  model: string;
  backend: string;
  /** Threads of the kernel pack (and of the peer). */
  threads: number;
  batch: number;
  /** Timed steps per measurement. */
  steps: number;
  /** Measurements taken (alternated with the peer's); the figures are the best one. */
  repeats: number;
  /** What the step times are measured in: wall time, or process CPU time (`--clock=cpu`). */
  clock: ProfileClock;
  msPerStep: number;
  imgPerSec: number;
  /** Training-step GFLOP/s (3 × forward conv/dense FLOPs per image). */
  gflops: number;
  /** The PyTorch peer's best img/s on the same model, batch and thread count (absent when it did not run). */
  peerImgPerSec?: number;
  /** imgPerSec / peerImgPerSec. */
  peerRatio?: number;
  peerThreads?: number;
  /** Per-kernel ms per step (with `--breakdown`), slowest first. */
  breakdown?: { kernel: string; msPerStep: number; callsPerStep: number }[];
}

/** Forward FLOPs per image of the conv / depthwise / dense layers (2 per multiply-add). */
export function forwardFlops(model: tfl.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cfg = layer.getConfig();
    const out = layer.outputShape as number[];
    const inp = (layer.input as tfl.SymbolicTensor).shape as number[];
    const cls = layer.getClassName();
    if (cls === "Conv2D") {
      const [kh, kw] = cfg.kernelSize as number[];
      flops += 2 * out[1] * out[2] * out[3] * kh * kw * inp[3];
    } else if (cls === "SeparableConv2D") {
      const [kh, kw] = cfg.kernelSize as number[];
      flops += 2 * out[1] * out[2] * inp[3] * kh * kw + 2 * out[1] * out[2] * inp[3] * out[3];
    } else if (cls === "DepthwiseConv2D") {
      const [kh, kw] = cfg.kernelSize as number[];
      flops += 2 * out[1] * out[2] * out[3] * kh * kw;
    } else if (cls === "Dense") {
      flops += 2 * inp[inp.length - 1] * out[out.length - 1];
    }
  }
  return flops;
}

/** Peak GEMM rate of the active backend (GFLOP/s, best of 5 runs of an n×n×n product). */
export async function peakGemmGflops(n = 512): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, "float32", 1);
  const b = tf.randomNormal([n, n], 0, 1, "float32", 2);
  let best = Infinity;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    const dt = performance.now() - t0;
    c.dispose();
    if (i >= 2) best = Math.min(best, dt);
  }
  tf.dispose([a, b]);
  return 2 * n ** 3 / best / 1e6;
}

/** A model set up for repeated timing on the active backend. */
export interface PreparedBench {
  /** Runs `steps` training steps; resolves to ms per step on `clock` (default wall). */
  time(steps: number, clock?: ProfileClock): Promise<number>;
  /** Forward FLOPs × 3 of one step (the training step's conv/dense work). */
  stepFlops: number;
  dispose(): void;
}

/** Builds the model, batch and optimiser, and runs `warmup` steps. */
export async function prepareBench(
  m: BenchModel,
  opts: { batch: number; warmup: number },
): Promise<PreparedBench> {
  const model = stepModel(m);
  const batch = randomBatch([opts.batch, m.size, m.size, m.channels], { seed: 2 });
  const optimizer = tf.train.adam(1e-3);
  for (let i = 0; i < opts.warmup; i++) await timedStep(model, batch, optimizer);
  return {
    time: async (steps, clock = "wall") => {
      const t0 = clockMs(clock);
      for (let i = 0; i < steps; i++) await timedStep(model, batch, optimizer);
      return (clockMs(clock) - t0) / steps;
    },
    stepFlops: 3 * forwardFlops(model.layers) * opts.batch,
    dispose: () => {
      disposeBatch(batch);
      optimizer.dispose();
      model.layers.layers.forEach((l) => l.dispose());
    },
  };
}

/** Times `steps` training steps after `warmup` ones (one measurement). */
export async function benchModel(
  m: BenchModel,
  opts: { batch: number; steps: number; warmup: number; backend: string; threads?: number },
): Promise<BenchRow> {
  const prepared = await prepareBench(m, opts);
  const ms = await prepared.time(opts.steps);
  const counters = opts.backend === "webgpu" ? installWebgpuCounters() : null;
  counters?.reset();
  if (counters) await prepared.time(opts.steps);
  const gpu = counters ? stepFields(counters.snapshot(), opts.steps) : {};
  prepared.dispose();
  return {
    ...gpu,
    model: m.key,
    backend: opts.backend,
    threads: opts.threads ?? 1,
    batch: opts.batch,
    steps: opts.steps,
    repeats: 1,
    clock: "wall",
    msPerStep: ms,
    imgPerSec: opts.batch * 1000 / ms,
    gflops: prepared.stepFlops / ms / 1e6,
  };
}

const PYTHON = "/usr/bin/python3";
/** Peer scripts: the workspace's shared mini-Xception peer (next to the repository) and the VGG16 one here. */
const PEERS: Record<"mini_xception" | "vgg16", URL> = {
  mini_xception: new URL("../../shared/peer/torch_mini_xception.py", import.meta.url),
  vgg16: new URL("./torch_vgg.py", import.meta.url),
};

/** Runs the PyTorch peer; null when python3 or torch or the script is missing. */
export async function runPeer(
  opts: {
    size: number;
    batch: number;
    steps: number;
    threads: number;
    script?: string;
    model?: "mini_xception" | "vgg16";
    /** `cpu`: the peer times its steps with process CPU time (its perf_counter swapped for process_time). */
    clock?: ProfileClock;
  },
): Promise<number | null> {
  let script: string;
  try {
    script = Deno.realPathSync(opts.script ?? PEERS[opts.model ?? "mini_xception"]);
  } catch {
    return null;
  }
  try {
    // The peer scripts time with time.perf_counter(); for CPU time they run with it replaced.
    const cpuWrapper = "import runpy, sys, time; time.perf_counter = time.process_time; " +
      "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')";
    const out = await new Deno.Command(PYTHON, {
      args: [
        ...(opts.clock === "cpu" ? ["-c", cpuWrapper] : []),
        script,
        "--size",
        `${opts.size}`,
        "--batch",
        `${opts.batch}`,
        "--steps",
        `${opts.steps}`,
        "--threads",
        `${opts.threads}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return null;
    const m = new TextDecoder().decode(out.stdout).match(/img_per_s=([\d.]+)/);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Formats rows as a Markdown table. */
export function formatTable(rows: BenchRow[], peak: Record<string, number>): string {
  const lines = [
    "| model | backend | threads | batch | ms/step | img/s | step GFLOP/s | peer img/s | ratio |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const peer = r.peerImgPerSec ? r.peerImgPerSec.toFixed(1) : "–";
    const ratio = r.peerRatio ? r.peerRatio.toFixed(2) : "–";
    lines.push(
      `| ${r.model} | ${r.backend} | ${r.threads} | ${r.batch} | ${r.msPerStep.toFixed(0)} | ` +
        `${r.imgPerSec.toFixed(1)} | ${r.gflops.toFixed(2)} | ${peer} | ${ratio} |`,
    );
  }
  for (const [b, g] of Object.entries(peak)) {
    lines.push(`\npeak GEMM (512³ matMul) on ${b}: ${g.toFixed(1)} GFLOP/s`);
  }
  return lines.join("\n");
}

/** Parses `--threads=1,2|all`: a list of positive thread counts (`all` = every core). */
export function parseThreadList(value: string, cores: number): number[] {
  const out: number[] = [];
  for (const part of value.split(",")) {
    const p = part.trim();
    const n = p === "all" ? cores : Number(p);
    if (!Number.isInteger(n) || n < 1) {
      throw new OptionError(`--threads: expected positive integers or 'all' (got '${part}')`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** Flags of `deno task bench:train`. */
export const TRAIN_BENCH_OPTIONS: OptionSpec[] = [
  { name: "steps", type: "int", default: 10, min: 1, help: "Timed training steps per measurement." },
  { name: "warmup", type: "int", default: 2, min: 0, help: "Untimed steps before the measurements." },
  { name: "batch", type: "int", default: 32, min: 1, help: "Images per training step." },
  {
    name: "repeats",
    type: "int",
    default: 3,
    min: 1,
    help: "Measurements per configuration, alternated with the peer's; the best of each is reported.",
  },
  {
    name: "models",
    type: "list",
    default: DEFAULT_MODELS,
    choices: BENCH_MODELS.map((m) => m.key),
    help: "Models to time (project-vggface64, the VGG16 trunk, is opt-in: minutes per step).",
  },
  {
    name: "backend",
    type: "list",
    default: ["auto"],
    choices: BACKEND_NAMES,
    help: "Backends to time, comma-separated (each with every --threads count).",
  },
  {
    name: "threads",
    type: "string",
    // `all` is every core; on one core "1,all" is just 1.
    default: "1,all",
    help: "Kernel-pack (and peer) thread counts, comma-separated positive integers or `all` (every core).",
  },
  {
    name: "peer",
    type: "string",
    default: "auto",
    help: "PyTorch peer: auto (the bundled scripts, when python3 has torch), off, or a peer script PATH.py.",
  },
  {
    name: "breakdown",
    type: "boolean",
    default: false,
    help: "Add the time per kernel type per step (separate, profiled steps).",
  },
  {
    name: "by-shape",
    aliases: ["by_shape"],
    type: "boolean",
    default: false,
    help: "With --breakdown: per kernel type and input shape.",
  },
  {
    name: "clock",
    type: "enum",
    default: "wall",
    choices: ["wall", "cpu"],
    help: "Time ours and the peer in wall time, or in process CPU time (one thread only).",
  },
  ...COMMON_OPTIONS.filter((o) => ["json", "quiet", "help"].includes(o.name)),
];

/** One-line usage of `deno task bench:train` (the head of its `--help`). */
const USAGE = "deno task bench:train [--steps=10] [--models=...] [--backend=auto[,...]] [--threads=1,all] " +
  "[--breakdown] [--clock=wall|cpu] [--json]: training-step throughput against the PyTorch peer";

/**
 * `deno task bench:train`; returns the exit code (0). Bad flags throw an OptionError (exit 2 under
 * {@link exitCodeOf}); a failure while measuring is thrown as is.
 */
export async function trainBenchMain(args: string[]): Promise<number> {
  const o = parseCommandArgs(args, TRAIN_BENCH_OPTIONS, USAGE);
  if (!o) return 0;
  const cores = navigator.hardwareConcurrency || 1;
  const steps = num(o, "steps");
  const repeats = num(o, "repeats");
  const warmup = num(o, "warmup");
  const batch = num(o, "batch");
  const threadList = parseThreadList(str(o, "threads"), cores);
  const clock = str(o, "clock") as ProfileClock;
  if (clock === "cpu" && threadList.some((n) => n > 1)) {
    throw new OptionError("--clock=cpu: CPU time measures one thread only (use --threads=1)");
  }
  const models = (o.models as string[]).map((k) => BENCH_MODELS.find((x) => x.key === k)!);
  const backends = o.backend as BackendName[];
  const peerFlag = str(o, "peer");
  if (peerFlag !== "auto" && peerFlag !== "off" && !peerFlag.endsWith(".py")) {
    throw new OptionError(`--peer: expected auto|off|<peer script .py> (got '${peerFlag}')`);
  }
  const quiet = bool(o, "quiet");
  const log = (s: string) => {
    if (!quiet) console.error(s);
  };
  const rows: BenchRow[] = [];
  const peak: Record<string, number> = {};
  const infos: BackendInfo[] = [];
  const breakdowns: string[] = [];
  for (const want of backends) {
    for (const threads of threadList) {
      const info = await initBackend({ backend: want, quiet, threads });
      infos.push(info);
      const label = `${info.name}/${info.threads}t`;
      peak[label] = await peakGemmGflops();
      for (const m of models) {
        log(
          `bench ${m.key} on ${label}: ${warmup} warm-up, best of ${repeats} x ${steps} steps, batch ${batch}`,
        );
        const prepared = await prepareBench(m, { batch, warmup });
        const usePeer = m.peer !== null && peerFlag !== "off";
        let best = Infinity;
        let peerBest = 0;
        let peerRan = false;
        // Alternate ours and the peer so both see the same machine load; keep the best of each.
        for (let r = 0; r < repeats; r++) {
          best = Math.min(best, await prepared.time(steps, clock));
          if (usePeer) {
            const p = await runPeer({
              size: m.size,
              batch,
              steps,
              threads: info.threads,
              model: m.peer ?? undefined,
              script: peerFlag === "auto" ? undefined : peerFlag,
              clock,
            });
            if (p !== null) {
              peerRan = true;
              peerBest = Math.max(peerBest, p);
            }
          }
        }
        const row: BenchRow = {
          model: m.key,
          backend: info.name,
          threads: info.threads,
          batch,
          steps,
          repeats,
          clock,
          msPerStep: best,
          imgPerSec: batch * 1000 / best,
          gflops: prepared.stepFlops / best / 1e6,
        };
        if (peerRan) {
          row.peerImgPerSec = peerBest;
          row.peerThreads = info.threads;
          row.peerRatio = row.imgPerSec / peerBest;
        }
        if (info.name === "webgpu") {
          // Separate, counted steps: the queue counters per step (dispatches, submits, readbacks, ...).
          const counters = installWebgpuCounters();
          counters.reset();
          await prepared.time(steps);
          Object.assign(row, stepFields(counters.snapshot(), steps));
        }
        if (bool(o, "breakdown")) {
          // Separate, profiled steps: the timers must not touch the figures above.
          const profile = profileKernels(info.name, { byShape: bool(o, "by-shape"), clock });
          const c0 = clockMs(clock);
          await prepared.time(steps);
          const stepMs = (clockMs(clock) - c0) / steps;
          const times = profile.snapshot();
          profile.stop();
          row.breakdown = times.map((t) => ({
            kernel: t.kernel,
            msPerStep: t.ms / steps,
            callsPerStep: t.calls / steps,
          }));
          breakdowns.push(formatBreakdown(`${m.key} on ${label}`, times, { steps, stepMs }));
        }
        prepared.dispose();
        rows.push(row);
        log(
          `  ${row.msPerStep.toFixed(0)} ms/step, ${row.imgPerSec.toFixed(1)} img/s` +
            (row.peerImgPerSec ? `; peer ${row.peerImgPerSec.toFixed(1)} img/s` : ""),
        );
      }
    }
  }
  if (bool(o, "json")) {
    console.log(benchJson("train", { backends: infos, peakGemmGflops: peak, rows }));
  } else {
    console.log(formatTable(rows, peak) + breakdowns.join("\n"));
  }
  return 0;
}

if (import.meta.main) Deno.exit(await exitCodeOf(trainBenchMain, Deno.args));

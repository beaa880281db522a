/**
 * `deno task bench:train`: training throughput (forward + backward + Adam, batch 32 by default) of
 * the mini-Xception (48×48×1 and 64×64×1) and the small VGG (64×64×3) per backend; the PyTorch peer
 * (shared/peer/torch_mini_xception.py) with the same settings and thread count when /usr/bin/python3
 * has torch; GFLOP/s of the VGG step against a measured peak GEMM rate.
 *
 *   deno task bench:train [--steps=10] [--warmup=2] [--batch=32] [--models=xception48,xception64,vgg64]
 *                         [--backend=auto|wasm|cpu|...[,more]] [--peer=auto|off|PATH.py] [--json] [--quiet]
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { type BackendInfo, initBackend, parseBackendName } from "../runner/backend.ts";
import { buildModel } from "../models/mod.ts";
import type { BackboneName, TaskSpec } from "../core/types.ts";
import {
  buildTestModel,
  disposeBatch,
  randomBatch,
  type TestBatch,
  type TestModelName,
} from "./_test_models.ts";
import { installWebgpuCounters, stepFields, type WebgpuStepFields } from "./webgpu_counters.ts";

/** A benchmark model configuration. */
export interface BenchModel {
  key: string;
  /** A test model of bench/_test_models.ts, or `project:<backbone>` built by models/mod.ts. */
  model: TestModelName | `project:${BackboneName}`;
  size: number;
  channels: number;
  /** The PyTorch peer implements this model. */
  peer: boolean;
}

/** Models selectable with `--models`. */
export const BENCH_MODELS: readonly BenchModel[] = [
  { key: "xception48", model: "mini_xception", size: 48, channels: 1, peer: true },
  { key: "xception64", model: "mini_xception", size: 64, channels: 1, peer: true },
  { key: "vgg64", model: "small_vgg", size: 64, channels: 3, peer: false },
  { key: "project-xception64", model: "project:mini_xception", size: 64, channels: 1, peer: true },
  { key: "project-vggface64", model: "project:vggFace", size: 64, channels: 3, peer: false },
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

/** One row of the result table (webgpu rows also carry the queue counters of bench/webgpu_counters.ts). */
export interface BenchRow extends Partial<WebgpuStepFields> {
  model: string;
  backend: string;
  batch: number;
  steps: number;
  msPerStep: number;
  imgPerSec: number;
  /** Training-step GFLOP/s (3 × forward conv/dense FLOPs per image). */
  gflops: number;
  peerImgPerSec?: number;
  /** imgPerSec / peerImgPerSec. */
  peerRatio?: number;
  peerThreads?: number;
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

/** Times `steps` training steps after `warmup` ones. */
export async function benchModel(
  m: BenchModel,
  opts: { batch: number; steps: number; warmup: number; backend: string },
): Promise<BenchRow> {
  const model = stepModel(m);
  const batch = randomBatch([opts.batch, m.size, m.size, m.channels], { seed: 2 });
  const optimizer = tf.train.adam(1e-3);
  for (let i = 0; i < opts.warmup; i++) await timedStep(model, batch, optimizer);
  const counters = opts.backend === "webgpu" ? installWebgpuCounters() : null;
  counters?.reset();
  const t0 = performance.now();
  for (let i = 0; i < opts.steps; i++) await timedStep(model, batch, optimizer);
  const ms = (performance.now() - t0) / opts.steps;
  const gpu = counters ? stepFields(counters.snapshot(), opts.steps) : {};
  const flops = 3 * forwardFlops(model.layers) * opts.batch;
  disposeBatch(batch);
  optimizer.dispose();
  model.layers.layers.forEach((l) => l.dispose());
  return {
    ...gpu,
    model: m.key,
    backend: opts.backend,
    batch: opts.batch,
    steps: opts.steps,
    msPerStep: ms,
    imgPerSec: opts.batch * 1000 / ms,
    gflops: flops / ms / 1e6,
  };
}

const PYTHON = "/usr/bin/python3";
/** Default location of the peer script (the workspace's shared/ folder next to the repository). */
const PEER = new URL("../../shared/peer/torch_mini_xception.py", import.meta.url);

/** Runs the PyTorch peer; null when python3 or torch or the script is missing. */
export async function runPeer(
  opts: { size: number; batch: number; steps: number; threads: number; script?: string },
): Promise<number | null> {
  let script: string;
  try {
    script = Deno.realPathSync(opts.script ?? PEER);
  } catch {
    return null;
  }
  try {
    const out = await new Deno.Command(PYTHON, {
      args: [
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

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`--${flag}: expected a positive integer (got '${value}')`);
  }
  return n;
}

/** Formats rows as a Markdown table. */
export function formatTable(rows: BenchRow[], peak: Record<string, number>): string {
  const lines = [
    "| model | backend | batch | ms/step | img/s | step GFLOP/s | peer img/s (threads) | ratio |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const peer = r.peerImgPerSec ? `${r.peerImgPerSec.toFixed(1)} (${r.peerThreads})` : "–";
    const ratio = r.peerRatio ? r.peerRatio.toFixed(2) : "–";
    lines.push(
      `| ${r.model} | ${r.backend} | ${r.batch} | ${r.msPerStep.toFixed(0)} | ${r.imgPerSec.toFixed(1)} | ` +
        `${r.gflops.toFixed(2)} | ${peer} | ${ratio} |`,
    );
  }
  for (const [b, g] of Object.entries(peak)) {
    lines.push(`\npeak GEMM (512³ matMul) on ${b}: ${g.toFixed(1)} GFLOP/s`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      steps: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      batch: { type: "string", default: "32" },
      models: { type: "string", default: DEFAULT_MODELS.join(",") },
      backend: { type: "string", default: "auto" },
      peer: { type: "string", default: "auto" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
  });
  const steps = positiveInt("steps", values.steps);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new Error(`--warmup: expected an integer >= 0 (got '${values.warmup}')`);
  }
  const batch = positiveInt("batch", values.batch);
  const models = values.models.split(",").map((k) => {
    const m = BENCH_MODELS.find((x) => x.key === k.trim());
    if (!m) {
      throw new Error(
        `--models: unknown model '${k}' (expected ${BENCH_MODELS.map((x) => x.key).join("|")})`,
      );
    }
    return m;
  });
  const backends = values.backend.split(",").map((b) => parseBackendName(b.trim()));
  if (values.peer !== "auto" && values.peer !== "off" && !values.peer.endsWith(".py")) {
    throw new Error(`--peer: expected auto|off|<peer script .py> (got '${values.peer}')`);
  }
  const log = (s: string) => {
    if (!values.quiet) console.error(s);
  };
  const rows: BenchRow[] = [];
  const peak: Record<string, number> = {};
  const infos: BackendInfo[] = [];
  const peerCache = new Map<string, number | null>();
  for (const want of backends) {
    const info = await initBackend({ backend: want, quiet: values.quiet });
    infos.push(info);
    peak[info.name] = await peakGemmGflops();
    for (const m of models) {
      log(`bench ${m.key} on ${info.name}: ${warmup} warm-up + ${steps} steps, batch ${batch}`);
      const row = await benchModel(m, { batch, steps, warmup, backend: info.name });
      if (m.peer && values.peer !== "off") {
        const key = `${m.size}/${batch}/${info.threads}`;
        if (!peerCache.has(key)) {
          log(`peer: torch ${m.key} threads=${info.threads}`);
          peerCache.set(
            key,
            await runPeer({
              size: m.size,
              batch,
              steps: Math.max(steps, 10),
              threads: info.threads,
              script: values.peer === "auto" ? undefined : values.peer,
            }),
          );
        }
        const p = peerCache.get(key);
        if (p) {
          row.peerImgPerSec = p;
          row.peerThreads = info.threads;
          row.peerRatio = row.imgPerSec / p;
        }
      }
      rows.push(row);
      log(`  ${row.msPerStep.toFixed(0)} ms/step, ${row.imgPerSec.toFixed(1)} img/s`);
    }
  }
  if (values.json) {
    console.log(JSON.stringify({ backends: infos, peakGemmGflops: peak, rows }, null, 2));
  } else {
    console.log(formatTable(rows, peak));
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`bench:train: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
}

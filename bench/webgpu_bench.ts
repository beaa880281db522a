/**
 * `deno task bench:webgpu`: the WebGPU step profile of a training step (forward + backward + Adam, the
 * step of `bench:train`): ms per step and the queue counters of bench/webgpu_counters.ts per step,
 * with tfjs-webgpu as shipped (`--mode=stock`), the same with submits batched (`--mode=batched`) and
 * with the toolkit's WebGPU pack (`--mode=pack`, kernels/webgpu/). Runs on any adapter, Mesa's
 * llvmpipe included.
 *
 *   deno task bench:webgpu [--models=xception48] [--batch=32] [--steps=3] [--warmup=2]
 *                          [--mode=stock,batched,pack] [--rounds=1] [--json] [--kernels] [--help]
 *
 * Flags are read as the toolkit's commands read them (runner/cli.ts): `--help` lists them (`--help --json`
 * as JSON); a misspelt flag or a bad value is one `error:` line and exit status 2.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import { parseCommandArgs } from "../runner/cli.ts";
import { COMMON_OPTIONS } from "../runner/schema.ts";
import { bool, num, type OptionSpec } from "../core/options.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { benchJson } from "./_bench_json.ts";
import { registerWebgpuPack, SUBMIT_BATCH_SIZE, unregisterWebgpuPack } from "../kernels/webgpu/mod.ts";
import { buildTestModel, disposeBatch, randomBatch, type TestModelName } from "./_test_models.ts";
import { buildModel } from "../models/mod.ts";
import type { BackboneName, TaskSpec } from "../core/types.ts";
import {
  installWebgpuCounters,
  stepFields,
  topKernels,
  type WebgpuCounterHandle,
  type WebgpuStepFields,
} from "./webgpu_counters.ts";

/** Models of the WebGPU bench (the mini-Xception and small VGG of `bench:train`). */
export const WEBGPU_BENCH_MODELS: Record<
  string,
  { model: TestModelName | `project:${BackboneName}`; size: number; channels: number }
> = {
  xception48: { model: "mini_xception", size: 48, channels: 1 },
  xception64: { model: "mini_xception", size: 64, channels: 1 },
  vgg64: { model: "small_vgg", size: 64, channels: 3 },
  /** The project's mini-Xception (models/build.ts, per-task branch heads), as in bench/webgpu_probe.ts. */
  "project-xception48": { model: "project:mini_xception", size: 48, channels: 1 },
};

const HEADS: TaskSpec[] = [
  { name: "emotion", classes: 7, labels: ["0", "1", "2", "3", "4", "5", "6"] },
  { name: "pose", classes: 5, labels: ["0", "1", "2", "3", "4"] },
];

/** Forward pass to per-head logits, its trainable variables and a disposer. */
function benchNet(m: (typeof WEBGPU_BENCH_MODELS)[string]): {
  forward: (x: tf.Tensor4D) => tf.Tensor[];
  vars: tf.Variable[];
  dispose: () => void;
} {
  if (m.model.startsWith("project:")) {
    const built = buildModel({
      backbone: m.model.slice("project:".length) as BackboneName,
      tasks: HEADS,
      inputShape: [m.size, m.size, m.channels],
      seed: 1,
    });
    return {
      forward: (x) => {
        const out = built.apply(x, true);
        return HEADS.map((h) => out.logits[h.name]!);
      },
      vars: built.trainableWeights(),
      dispose: () => built.model.layers.forEach((l) => l.dispose()),
    };
  }
  const model = buildTestModel(m.model as TestModelName, { size: m.size, channels: m.channels, seed: 1 });
  return {
    forward: (x) => model.apply(x, { training: true }) as tf.Tensor[],
    vars: model.trainableWeights.map((w) => w.read() as tf.Variable),
    dispose: () => model.layers.forEach((l) => l.dispose()),
  };
}

/**
 * `stock`: tfjs-webgpu as shipped; `batched`: the same kernels with the pack's submit batch size (the
 * issue's second column); `pack`: the WebGPU pack (kernels/webgpu/).
 */
export type WebgpuBenchMode = "stock" | "batched" | "pack";

const MODES: readonly WebgpuBenchMode[] = ["stock", "batched", "pack"];

/** One profiled configuration. */
export interface WebgpuProfileRow extends WebgpuStepFields {
  model: string;
  mode: WebgpuBenchMode;
  batch: number;
  steps: number;
  msPerStep: number;
  imgPerSec: number;
  /** First (compiling) step's milliseconds. */
  firstStepMs: number;
  /** Pipelines compiled during warm-up. */
  compilesInWarmup: number;
  /** Loss of the last step (a sanity value: finite, decreasing over steps on a fixed batch). */
  loss: number;
  /** Dispatches per step of the busiest kernels. */
  topKernels: string[];
  /** CPU-forwarded kernel calls per step, by kernel. */
  cpuForwardedByKernel: Record<string, number>;
}

/**
 * Profiles `steps` training steps after `warmup` on the active webgpu backend with the counters
 * installed by the caller (reset here). The caller sets the mode (pack registered or not).
 */
export async function profileWebgpuTraining(
  key: string,
  opts: {
    batch: number;
    steps: number;
    warmup: number;
    mode: WebgpuBenchMode;
    counters: WebgpuCounterHandle;
  },
): Promise<WebgpuProfileRow> {
  const m = WEBGPU_BENCH_MODELS[key];
  if (!m) {
    throw new Error(
      `--models: unknown model '${key}' (expected ${Object.keys(WEBGPU_BENCH_MODELS).join("|")})`,
    );
  }
  const net = benchNet(m);
  const batch = randomBatch([opts.batch, m.size, m.size, m.channels], { seed: 2 });
  const optimizer = tf.train.adam(1e-3);
  const step = async (): Promise<number> => {
    const loss = optimizer.minimize(
      () => {
        const logits = net.forward(batch.x);
        return tf.addN(logits.map((l, i) => tf.losses.softmaxCrossEntropy(batch.y[i], l))) as tf.Scalar;
      },
      true,
      net.vars,
    );
    if (!loss) throw new Error("bench:webgpu: optimizer returned no loss");
    const v = (await loss.data())[0];
    loss.dispose();
    return v;
  };
  const counters = opts.counters;
  counters.reset();
  const f0 = performance.now();
  await step();
  const firstStepMs = performance.now() - f0;
  for (let i = 1; i < opts.warmup; i++) await step();
  const compilesInWarmup = counters.snapshot().compiles;
  counters.reset();
  let loss = NaN;
  for (let i = 0; i < opts.steps; i++) loss = await step();
  const counts = counters.snapshot();
  disposeBatch(batch);
  optimizer.dispose();
  net.dispose();
  const msPerStep = counts.elapsedMs / opts.steps;
  const perKernel: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts.cpuForwardedByKernel)) perKernel[k] = v / opts.steps;
  return {
    model: key,
    mode: opts.mode,
    batch: opts.batch,
    steps: opts.steps,
    msPerStep,
    imgPerSec: opts.batch * 1000 / msPerStep,
    firstStepMs,
    compilesInWarmup,
    loss,
    ...stepFields(counts, opts.steps),
    topKernels: topKernels(counts, opts.steps),
    cpuForwardedByKernel: perKernel,
  };
}

/**
 * Markdown table of profile rows: one line per model and mode, the counts of its first row (they do
 * not change between rounds) and the best ms per step and enqueue ms over its rounds.
 */
export function formatWebgpuTable(rows: WebgpuProfileRow[]): string {
  const head = [
    "model",
    "mode",
    "dispatches",
    "submits",
    "ms in submit",
    "buffer writes",
    "readbacks (bytes)",
    "CPU-forwarded",
    "compiles after warm-up",
    "enqueue ms (best)",
    "ms/step (best)",
    "rounds",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  const groups = new Map<string, WebgpuProfileRow[]>();
  for (const r of rows) {
    const k = `${r.model} b${r.batch}|${r.mode}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  for (const [k, g] of groups) {
    const r = g[0];
    const cells = [
      ...k.split("|"),
      r.dispatchesPerStep.toFixed(0),
      r.submitsPerStep.toFixed(1),
      Math.min(...g.map((x) => x.submitMsPerStep)).toFixed(1),
      r.bufferWritesPerStep.toFixed(0),
      `${r.readbacksPerStep.toFixed(1)} (${r.readbackBytesPerStep.toFixed(0)})`,
      r.cpuForwardedOps.toFixed(1),
      `${Math.max(...g.map((x) => x.compilesAfterWarmup))}`,
      Math.min(...g.map((x) => x.enqueueMsPerStep)).toFixed(0),
      Math.min(...g.map((x) => x.msPerStep)).toFixed(0),
      `${g.length}`,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Flags of `deno task bench:webgpu`. */
export const WEBGPU_BENCH_OPTIONS: OptionSpec[] = [
  {
    name: "models",
    type: "list",
    default: ["xception48"],
    choices: Object.keys(WEBGPU_BENCH_MODELS),
    help: "Models to profile.",
  },
  { name: "batch", type: "int", default: 32, min: 1, help: "Images per training step." },
  { name: "steps", type: "int", default: 3, min: 1, help: "Counted steps per model and mode." },
  {
    name: "warmup",
    type: "int",
    default: 2,
    min: 1,
    help: "Warm-up steps (the first compiles the pipelines) before the counted ones.",
  },
  {
    name: "mode",
    type: "list",
    default: [...MODES],
    choices: MODES,
    help: "stock: tfjs-webgpu as shipped; batched: its submits batched; pack: the toolkit's WebGPU pack.",
  },
  {
    name: "rounds",
    type: "int",
    default: 1,
    min: 1,
    help: "Rounds over the modes, alternated; ms per step is the best round's.",
  },
  {
    name: "kernels",
    type: "boolean",
    default: false,
    help: "Print the busiest kernels of each model and mode to stderr.",
  },
  ...COMMON_OPTIONS.filter((o) => ["json", "help"].includes(o.name)),
];

/** One-line usage of `deno task bench:webgpu` (the head of its `--help`). */
const USAGE = "deno task bench:webgpu [--models=xception48] [--mode=stock,batched,pack] [--rounds=1] " +
  "[--batch=32] [--json]: WebGPU queue counters of one training step per mode";

/**
 * `deno task bench:webgpu`; returns the exit code (0). Bad flags throw an OptionError (exit 2 under
 * {@link exitCodeOf}); a failure while measuring is thrown as is.
 */
export async function webgpuBenchMain(args: string[]): Promise<number> {
  const o = parseCommandArgs(args, WEBGPU_BENCH_OPTIONS, USAGE);
  if (!o) return 0;
  const batch = num(o, "batch");
  const steps = num(o, "steps");
  const warmup = num(o, "warmup");
  const rounds = num(o, "rounds");
  const models = o.models as string[];
  const modes = o.mode as WebgpuBenchMode[];
  const json = bool(o, "json");
  const info = await initBackend({ backend: "webgpu", quiet: json, selfCheck: false });
  const rows: WebgpuProfileRow[] = [];
  // Rounds alternate the modes, so that load from other processes hits every mode alike (best of n).
  const order = Array.from({ length: rounds }, () => modes).flat();
  for (const mode of order) {
    if (mode === "pack") registerWebgpuPack();
    else unregisterWebgpuPack();
    const batchFlag = tf.env().getNumber("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE");
    if (mode === "batched") tf.env().set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", SUBMIT_BATCH_SIZE);
    const counters = installWebgpuCounters();
    try {
      for (const key of models) {
        if (!json) {
          console.error(`bench:webgpu ${key} ${mode}: ${warmup} warm-up + ${steps} steps, batch ${batch}`);
        }
        const row = await profileWebgpuTraining(key, { batch, steps, warmup, mode, counters });
        rows.push(row);
        if (!json && bool(o, "kernels")) console.error(`  ${row.topKernels.join(", ")}`);
      }
    } finally {
      counters.uninstall();
      tf.env().set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", batchFlag);
    }
  }
  if (json) console.log(benchJson("webgpu", { adapter: info.adapter, rows }));
  else console.log(formatWebgpuTable(rows));
  return 0;
}

if (import.meta.main) Deno.exit(await exitCodeOf(webgpuBenchMain, Deno.args));

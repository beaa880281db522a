/**
 * `deno task bench:task_weighting`: step time of every task weighting against `ew` on the project's
 * mini-Xception (48x48x1, batch 32 by default, two heads, half the rows labelled for each task, so both are
 * present in every batch). The weightings run interleaved, in a rotating order, round after round, so a
 * noisy neighbour slows all of them alike; the median step per weighting and its ratio to ew's are printed.
 *
 *   deno task bench:task_weighting [--rounds=6] [--steps=3] [--batch=32] [--size=48] [--backend=auto]
 *                                  [--weightings=ew,uw,...] [--json] [--help]
 *
 * Flags are read as the toolkit's commands read them (runner/cli.ts): `--help` lists them (`--help --json`
 * as JSON); a misspelt flag, a bad value or an unknown weighting is one `error:` line and exit status 2.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type BackendName, initBackend } from "../runner/backend.ts";
import { didYouMean, parseCommandArgs } from "../runner/cli.ts";
import { COMMON_OPTIONS } from "../runner/schema.ts";
import { buildModel, MIN_INPUT_SIDE } from "../models/mod.ts";
import { trainStep } from "../runner/train/step.ts";
import { discoverWeightings } from "../core/task_weighting/mod.ts";
import { bool, num, OptionError, type OptionSpec, str } from "../core/options.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { benchJson } from "./_bench_json.ts";
import { Rng } from "../core/rng.ts";
import type { TaskSpec } from "../core/types.ts";

/** Flags of `deno task bench:task_weighting`. */
export const TASK_WEIGHTING_BENCH_OPTIONS: OptionSpec[] = [
  {
    name: "rounds",
    type: "int",
    default: 6,
    min: 1,
    help: "Rounds over the weightings, in a rotating order.",
  },
  { name: "steps", type: "int", default: 3, min: 1, help: "Timed steps per weighting and round." },
  {
    name: "batch",
    type: "int",
    default: 32,
    min: 2,
    help: "Rows per step (half labelled for each task, so at least 2).",
  },
  {
    name: "size",
    type: "int",
    default: 48,
    min: MIN_INPUT_SIDE.mini_xception,
    help: "Image side of the mini-Xception (size x size x 1).",
  },
  {
    name: "weightings",
    type: "list",
    help: "Task weightings to time (core/task_weighting/); default: ew, then every other one.",
  },
  ...COMMON_OPTIONS.filter((o) => ["backend", "json", "help"].includes(o.name)),
];

/** One-line usage of `deno task bench:task_weighting` (the head of its `--help`). */
const USAGE = "deno task bench:task_weighting [--rounds=6] [--steps=3] [--batch=32] [--size=48] " +
  "[--backend=auto] [--weightings=ew,uw,...] [--json]: step time of every task weighting against ew";

/**
 * `deno task bench:task_weighting`; returns the exit code (0). Bad flags and unknown weightings throw an
 * OptionError (exit 2 under {@link exitCodeOf}); a failure while measuring is thrown as is.
 */
export async function taskWeightingBenchMain(args: string[]): Promise<number> {
  const o = parseCommandArgs(args, TASK_WEIGHTING_BENCH_OPTIONS, USAGE);
  if (!o) return 0;
  const rounds = num(o, "rounds"), steps = num(o, "steps"), b = num(o, "batch"), size = num(o, "size");
  const all = await discoverWeightings();
  const known = all.map((s) => s.name);
  const names = Array.isArray(o.weightings)
    ? o.weightings.map((n) => n.toLowerCase())
    : ["ew", ...known.filter((n) => n !== "ew")];
  for (const n of names) {
    if (!known.includes(n)) {
      const hint = didYouMean(n, known);
      throw new OptionError(
        `--weightings: unknown weighting "${n}"${hint ? ` (did you mean ${hint}?)` : ""}; known: ${
          known.join(", ")
        }`,
      );
    }
  }
  const info = await initBackend({ backend: str(o, "backend") as BackendName, quiet: true });
  const tasks: TaskSpec[] = [
    { name: "emotion", classes: 7, labels: Array.from({ length: 7 }, (_, i) => `e${i}`) },
    { name: "pose", classes: 5, labels: Array.from({ length: 5 }, (_, i) => `p${i}`) },
  ];
  const model = buildModel({ backbone: "mini_xception", tasks, inputShape: [size, size, 1], seed: 1 });
  const x = tf.randomNormal([b, size, size, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const rows = Array.from({ length: b }, (_, i) => i);
  const ye = tf.cast(tf.oneHot(tf.tensor1d(rows.map((i) => i % 7), "int32"), 7), "float32") as tf.Tensor2D;
  const yp = tf.cast(tf.oneHot(tf.tensor1d(rows.map((i) => i % 5), "int32"), 5), "float32") as tf.Tensor2D;
  const me = tf.tensor1d(rows.map((i) => (i < b / 2 ? 1 : 0)));
  const mp = tf.tensor1d(rows.map((i) => (i < b / 2 ? 0 : 1)));
  const batch = { x, targets: { emotion: ye, pose: yp }, masks: { emotion: me, pose: mp } };
  const times = new Map<string, number[]>(names.map((n) => [n, []]));
  const instances = new Map(
    names.map((n) => {
      const s = all.find((w) => w.name === n)!;
      return [n, s.create({ tasks: tasks.map((t) => t.name), options: {}, rng: new Rng(1) })];
    }),
  );
  // Each weighting gets its own optimiser; the model's weights are shared (the step time does not depend
  // on their values).
  const optimizers = new Map(names.map((n) => [n, tf.train.adam(1e-4)]));
  const step = (n: string) =>
    trainStep(batch, {
      model,
      optimizer: optimizers.get(n)!,
      lossWeights: { emotion: 1, pose: 1 },
      terms: [],
      options: {},
      weighting: instances.get(n),
    });
  for (const n of names) await step(n); // warm-up: kernels compiled, optimiser slots made
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const n of order) {
      for (let s = 0; s < steps; s++) {
        const t0 = performance.now();
        await step(n);
        times.get(n)!.push(performance.now() - t0);
      }
    }
  }
  const median = (v: number[]) => {
    const s = [...v].sort((p, q) => p - q);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const ew = median(times.get("ew") ?? times.get(names[0])!);
  const result = names.map((n) => ({
    weighting: n,
    medianMs: median(times.get(n)!),
    minMs: Math.min(...times.get(n)!),
    overVsEw: median(times.get(n)!) / ew - 1,
    steps: times.get(n)!.length,
  }));
  if (bool(o, "json")) {
    console.log(benchJson("task-weighting", { backend: info.name, batch: b, size, result }));
  } else {
    console.log(
      `backend ${info.name}, mini_xception ${size}x${size}x1, batch ${b}, ${rounds}x${steps} steps each`,
    );
    console.log("| weighting | median step (ms) | min (ms) | overhead vs ew (median) |");
    console.log("| --- | ---: | ---: | ---: |");
    for (const r of result) {
      console.log(
        `| ${r.weighting} | ${r.medianMs.toFixed(1)} | ${r.minMs.toFixed(1)} | ${
          (100 * r.overVsEw).toFixed(1)
        }% |`,
      );
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await exitCodeOf(taskWeightingBenchMain, Deno.args));

/**
 * Memory soak: trains a method for many outer epochs in this process and records, after every epoch,
 * the process RSS, the JS heap and the tfjs tensor count, then reports the growth between the first
 * epochs (after warm-up) and the last ones.
 *
 *   deno task bench:rss [--method=sa-mtl] [--epoch=12] [--train_size=600] [--image_size=32] [--json]
 *
 * Flags are read as the toolkit's commands read them (runner/cli.ts): `--help` lists them; a misspelt flag
 * or a bad value is one `error:` line and exit status 2.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { resolveRun } from "../runner/commands.ts";
import { executeRun } from "../runner/run_command.ts";
import { parseCommandArgs } from "../runner/cli.ts";
import { COMMON_OPTIONS, TRAIN_OPTIONS } from "../runner/schema.ts";
import { type OptionSpec, str } from "../core/options.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { benchJson } from "./_bench_json.ts";

interface Sample {
  epoch: number;
  rssMiB: number;
  heapMiB: number;
  tensors: number;
  tfBytesMiB: number;
}

/** Flags of `deno task bench:rss` (the run's own flags are checked again by the method's schema). */
export const RSS_SOAK_OPTIONS: OptionSpec[] = [
  { name: "method", type: "string", default: "sa-mtl", help: "The method plugin to train." },
  {
    name: "epoch",
    type: "int",
    default: 12,
    min: 4,
    help: "Outer epochs: growth is measured from the third (after 2 warm-up epochs) to the last.",
  },
  // The training schema's ranges, so the help says what the run will accept.
  { ...schemaSpec("train_size"), default: 600 },
  { ...schemaSpec("image_size"), default: 32 },
  ...COMMON_OPTIONS.filter((o) => ["json", "help"].includes(o.name)),
];

/** The training flag `name` as the runner's schema declares it. */
function schemaSpec(name: string): OptionSpec {
  const spec = TRAIN_OPTIONS.find((s) => s.name === name);
  if (!spec) throw new Error(`runner/schema.ts declares no --${name}`);
  return spec;
}

const USAGE =
  "deno task bench:rss [--method=sa-mtl] [--epoch=12] [--train_size=600] [--image_size=32] [--json]: " +
  "RSS and tensor count per epoch of a long run";

/** `deno task bench:rss`; returns the exit code. Bad flags (also the run's) are OptionErrors. */
export async function rssSoakMain(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, RSS_SOAK_OPTIONS, USAGE);
  if (!values) return 0;
  const dir = await Deno.makeTempDir({ prefix: "rss_soak_" });
  // The run directory goes with the process, also when the run's flags are refused.
  const samples: Sample[] = [];
  let t0 = 0;
  try {
    const run = await resolveRun(str(values, "method"), [
      `--epoch=${values.epoch}`,
      `--train_size=${values.train_size}`,
      `--image_size=${values.image_size}`,
      "--batch_size=32",
      "--quiet",
      `--out=${dir}/run`,
    ], { print: () => {} });
    if (!run) return 0;
    t0 = performance.now();
    await executeRun(run, () => {}, {
      onEpochEnd: (epoch) => {
        const m = Deno.memoryUsage();
        samples.push({
          epoch,
          rssMiB: m.rss / 2 ** 20,
          heapMiB: m.heapUsed / 2 ** 20,
          tensors: tf.memory().numTensors,
          tfBytesMiB: tf.memory().numBytes / 2 ** 20,
        });
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  const warm = Math.min(2, samples.length - 1);
  const first = samples[warm];
  const last = samples[samples.length - 1];
  const summary = {
    method: str(values, "method"),
    epochs: samples.length,
    seconds: (performance.now() - t0) / 1000,
    rssGrowthMiB: last.rssMiB - first.rssMiB,
    rssGrowthPerEpochMiB: (last.rssMiB - first.rssMiB) / Math.max(1, last.epoch - first.epoch),
    tensorGrowth: last.tensors - first.tensors,
    samples,
  };
  if (values.json) console.log(benchJson("rss", summary));
  else {
    console.log("epoch  rss MiB  heap MiB  tensors  tf MiB");
    for (const s of samples) {
      console.log(
        `${String(s.epoch + 1).padStart(5)}  ${s.rssMiB.toFixed(1).padStart(7)}  ${
          s.heapMiB.toFixed(1).padStart(8)
        }  ${String(s.tensors).padStart(7)}  ${s.tfBytesMiB.toFixed(2).padStart(6)}`,
      );
    }
    console.log(
      `${summary.method}: ${summary.epochs} epochs in ${summary.seconds.toFixed(0)} s; RSS ${
        first.rssMiB.toFixed(1)
      } -> ${last.rssMiB.toFixed(1)} MiB after warm-up (${
        summary.rssGrowthPerEpochMiB.toFixed(2)
      } MiB/epoch), tensors ${first.tensors} -> ${last.tensors}`,
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await exitCodeOf(rssSoakMain, Deno.args));

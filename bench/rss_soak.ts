/**
 * Memory soak: trains a method for many outer epochs in this process and records, after every epoch,
 * the process RSS, the JS heap and the tfjs tensor count, then reports the growth between the first
 * epochs (after warm-up) and the last ones.
 *
 *   deno task bench:rss [--method=sa-mtl] [--epoch=12] [--train_size=600] [--json]
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { parseArgs as nodeParseArgs } from "node:util";
import { resolveRun } from "../runner/commands.ts";
import { executeRun } from "../runner/run_command.ts";

interface Sample {
  epoch: number;
  rssMiB: number;
  heapMiB: number;
  tensors: number;
  tfBytesMiB: number;
}

const { values } = nodeParseArgs({
  args: Deno.args,
  options: {
    method: { type: "string", default: "sa-mtl" },
    epoch: { type: "string", default: "12" },
    train_size: { type: "string", default: "600" },
    image_size: { type: "string", default: "32" },
    json: { type: "boolean", default: false },
  },
});

const dir = await Deno.makeTempDir({ prefix: "rss_soak_" });
const run = await resolveRun(values.method!, [
  `--epoch=${values.epoch}`,
  `--train_size=${values.train_size}`,
  `--image_size=${values.image_size}`,
  "--batch_size=32",
  "--quiet",
  `--out=${dir}/run`,
], { print: () => {} });
if (!run) Deno.exit(0);
const samples: Sample[] = [];
const t0 = performance.now();
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
await Deno.remove(dir, { recursive: true });

const warm = Math.min(2, samples.length - 1);
const first = samples[warm];
const last = samples[samples.length - 1];
const summary = {
  method: values.method,
  epochs: samples.length,
  seconds: (performance.now() - t0) / 1000,
  rssGrowthMiB: last.rssMiB - first.rssMiB,
  rssGrowthPerEpochMiB: (last.rssMiB - first.rssMiB) / Math.max(1, last.epoch - first.epoch),
  tensorGrowth: last.tensors - first.tensors,
  samples,
};
if (values.json) console.log(JSON.stringify(summary, null, 2));
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

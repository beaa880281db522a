/**
 * Regenerates the EXAMPLE report in this folder from a small, fake but realistic results object
 * (seeded, so the output is stable). The numbers are invented: they document the report's layout and
 * are not results of this toolkit.
 *
 * `deno run -A docs/report_example/make_example.ts`
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../../core/rng.ts";
import {
  type CompareResults,
  type CurvePoint,
  type RunResult,
  writeReport,
} from "../../runner/report/mod.ts";
import { FERPLUS_LABELS, POSE5_LABELS } from "../../datasets/label_spaces.ts";

const SEEDS = [0, 1, 2];
const EPOCHS = 12;
const PRIORS: Record<string, number[]> = {
  emotion: [0.36, 0.27, 0.12, 0.11, 0.08, 0.01, 0.03, 0.02],
  pose: [0.3, 0.15, 0.15, 0.2, 0.2],
};
const CLASSES: Record<string, readonly string[]> = { emotion: FERPLUS_LABELS, pose: POSE5_LABELS };
const DATASET: Record<string, string> = { emotion: "ferplus", pose: "aflw" };
const N_TEST: Record<string, number> = { emotion: 3137, pose: 2400 };

/** Invented final accuracies (emotion, pose) and whether the method makes pseudo labels. */
const METHODS: {
  name: string;
  acc: [number, number];
  pseudo: "none" | "plain" | "selected";
  speed: number;
}[] = [
  { name: "stl", acc: [0.772, 0.751], pseudo: "none", speed: 1 },
  { name: "all-in-one", acc: [0.768, 0.757], pseudo: "none", speed: 1.9 },
  { name: "lel-ltn", acc: [0.774, 0.752], pseudo: "plain", speed: 2.2 },
  { name: "dml-lwf", acc: [0.779, 0.761], pseudo: "none", speed: 2.3 },
  { name: "sa-mtl", acc: [0.786, 0.766], pseudo: "selected", speed: 2.6 },
];

function confusion(rng: Rng, task: string, acc: number): number[][] {
  const prior = PRIORS[task];
  const C = prior.length;
  return prior.map((p, i) => {
    const n = Math.round(p * N_TEST[task]);
    // Rare classes are harder, as on FER+.
    const ai = Math.min(0.97, Math.max(0.05, acc + (p - 1 / C) * 0.2 - 0.03 + rng.normal() * 0.02));
    const row = new Array<number>(C).fill(0);
    row[i] = Math.round(n * ai);
    let rest = n - row[i];
    while (rest > 0) {
      const j = rng.int(C);
      if (j === i) continue;
      const k = Math.min(rest, 1 + rng.int(Math.max(1, Math.ceil(rest / 3))));
      row[j] += k;
      rest -= k;
    }
    return row;
  });
}

function metrics(m: number[][]): { acc: number; mca: number } {
  let hit = 0, n = 0, rec = 0, present = 0;
  m.forEach((row, i) => {
    const t = row.reduce((a, b) => a + b, 0);
    hit += row[i];
    n += t;
    if (t > 0) rec += row[i] / t, present++;
  });
  return { acc: hit / n, mca: rec / present };
}

/** Per-row correctness with the matrix's trace of ones at random rows (the same rows for every run). */
function correctness(rng: Rng, m: number[][], task: string): { testCorrect: string; testRows: string } {
  const n = m.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
  const hits = m.reduce((a, row, i) => a + row[i], 0);
  const right = new Uint8Array(n);
  const perm = rng.permutation(n);
  for (let i = 0; i < hits; i++) right[perm[i]] = 1;
  return { testCorrect: Array.from(right).join(""), testRows: `${n}:example-${task}` };
}

function run(method: (typeof METHODS)[0], seed: number, tasks: string[]): RunResult {
  const rng = new Rng(`${method.name}-${seed}-${tasks.join("+")}`);
  const curves: CurvePoint[] = [];
  const results = tasks.map((task) => {
    const ti = task === "emotion" ? 0 : 1;
    const target = method.acc[ti] + rng.normal() * 0.004;
    const m = confusion(rng, task, target);
    const { acc, mca } = metrics(m);
    const ds = DATASET[task];
    for (let e = 0; e < EPOCHS; e++) {
      const v = acc * (1 - 0.45 * Math.exp(-e / 2.6)) + rng.normal() * 0.006;
      const imagesSeen = 24000 * (e + 1) * (tasks.length === 1 ? 0.5 : 1);
      curves.push({ epoch: e, split: "val", metric: `${task}/${ds}/val/acc`, value: v, imagesSeen });
      curves.push({
        epoch: e,
        split: "train",
        metric: `${task}/${ds}/train/acc`,
        value: Math.min(0.99, v + 0.02 * e),
      });
      if (method.pseudo !== "none") {
        const other = task === "emotion" ? "pose" : "emotion";
        const pa = 0.45 + 0.25 * (1 - Math.exp(-e / 3)) + rng.normal() * 0.01;
        curves.push({ epoch: e, split: "train", metric: `${other}/${ds}/train/pseudo_acc`, value: pa });
        if (method.pseudo === "selected") {
          curves.push({
            epoch: e,
            split: "train",
            metric: `${other}/${ds}/train/pseudo_acc_kept`,
            value: Math.min(0.98, pa + 0.14),
          });
          curves.push({
            epoch: e,
            split: "train",
            metric: `${other}/${ds}/train/pseudo_acc_rejected`,
            value: pa - 0.2,
          });
          // The share that makes the kept and rejected accuracies average to the all-rows one.
          curves.push({
            epoch: e,
            split: "train",
            metric: `${other}/${ds}/train/kept_fraction`,
            value: 0.2 / 0.34,
          });
        }
      }
    }
    return {
      task,
      dataset: ds,
      testAcc: acc,
      testMeanClassAcc: mca,
      valAcc: acc + 0.004,
      nTest: N_TEST[task],
      nVal: N_TEST[task],
      classNames: [...CLASSES[task]],
      confusion: m,
      ...correctness(rng, m, task),
    };
  });
  const seconds = 610 * method.speed * (tasks.length === 1 ? 0.5 : 1) * (1 + rng.normal() * 0.03);
  const tag = tasks.length === 1 ? `${method.name}-${DATASET[tasks[0]]}` : method.name;
  return {
    method: method.name,
    seed,
    datasets: tasks.map((t) => DATASET[t]),
    tasks,
    results,
    curves,
    selectedEpoch: EPOCHS - 1 - rng.int(3),
    trainSeconds: seconds,
    imagesSeen: 24000 * EPOCHS * (tasks.length === 1 ? 0.5 : 1),
    runDir: `runs/compare/example/${tag}/seed-${seed}`,
    command: `deno task ${method.name} --datasets=${
      tasks.map((t) => DATASET[t]).join(",")
    } --model=mini_xception --seed=${seed} --epochs=${EPOCHS}`,
    backend: { name: "cpu", kernelPack: "example-pack", simd: true, threads: 2 },
    versions: { deno: "2.9.6", "@tensorflow/tfjs-core": "4.22.0" },
  };
}

const runs: RunResult[] = [];
for (const m of METHODS) {
  for (const seed of SEEDS) {
    if (m.name === "stl") runs.push(run(m, seed, ["emotion"]), run(m, seed, ["pose"]));
    else runs.push(run(m, seed, ["emotion", "pose"]));
  }
}

const results: CompareResults = {
  profile: "example",
  command: "deno task compare --profile=example --datasets=ferplus,aflw --seeds=0,1,2",
  datasets: ["ferplus", "aflw"],
  model: "mini_xception",
  budget: { epochs: EPOCHS, batchSize: 32, imagesPerEpoch: 24000 },
  seeds: SEEDS,
  runs,
  machine: { os: "linux", arch: "x86_64", cpus: 2, cpuModel: "example CPU" },
  wallSeconds: runs.reduce((a, r) => a + r.trainSeconds, 0) + 95,
  startedAt: "2026-01-01T00:00:00Z",
  finishedAt: "2026-01-01T06:30:00Z",
  baseline: "stl",
  proposed: "sa-mtl",
  // Stored in results.json, so a re-rendered copy keeps the label.
  title: "EXAMPLE report (invented numbers, for documentation only)",
  notice:
    "> **This is an example.** Every number below was generated by `docs/report_example/make_example.ts` " +
    "from a fake results object to show the report's layout. None of it is a measurement.",
};

await writeReport(results, dirname(fileURLToPath(import.meta.url)), {
  // Smaller PNGs than a real report (scale 2) keep the repository light.
  pngScale: 1.5,
});
console.log("example report written");

/**
 * End-to-end tests of the training core on tiny synthetic data: each simple method trains and writes
 * its run directory, the loss falls on a fixed batch, masked loss is 0 on unlabelled batches, teacher
 * targets are row-normalised, the tensor count stays flat, a resumed run equals an uninterrupted one,
 * and short runs do not evaluate at chance.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { resolveRun } from "../runner/commands.ts";
import { discoverPlugins } from "../runner/registry.ts";
import { withFlags } from "./_args.ts";
import { executeRun } from "../runner/run_command.ts";
import { initBackend } from "../runner/backend.ts";
import { maskedCrossEntropy } from "../core/loss.ts";
import { trainStep } from "../runner/train/step.ts";
import { buildModel } from "../models/mod.ts";
import { parseCsv } from "../core/csv.ts";
import { readTestPredictions, testPredictionsPath } from "../runner/train/test_predictions.ts";
import { readRun } from "../runner/compare.ts";
import { evaluate as evaluateRun } from "../runner/eval_command.ts";
import type { ImageSet } from "../core/types.ts";

await initBackend({ backend: "wasm", quiet: true });

/** Tiny, fast settings shared by the end-to-end runs. */
const TINY = ["--train_size=120", "--image_size=32", "--batch_size=16", "--lr=3e-3", "--quiet"];
const quietLog = () => {};

async function train(task: string, args: string[], hooks = {}) {
  const run = await resolveRun(task, withFlags(TINY, args), { print: () => {} });
  assert.ok(run);
  return await executeRun(run, quietLog, hooks);
}

async function readLog(dir: string) {
  return parseCsv(await Deno.readTextFile(join(dir, "log.csv"))).rows;
}

Deno.test("masked cross-entropy is exactly 0 on a batch with no labelled row, and ignores masked rows", () => {
  const z = tf.tensor2d([[1, 2, 3], [0.5, -1, 2]]);
  const zero = tf.zeros([2, 3]) as tf.Tensor2D;
  const l0 = maskedCrossEntropy(z, zero, tf.zeros([2]) as tf.Tensor1D);
  assert.equal(l0.dataSync()[0], 0);
  const y = tf.tensor2d([[0, 0, 1], [1, 0, 0]]);
  const l1 = maskedCrossEntropy(z, y, tf.tensor1d([1, 0]));
  const want = -Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)));
  assert.ok(Math.abs(l1.dataSync()[0] - want) < 1e-5);
  // A scaled target w*onehot acts as a sample weight.
  const l2 = maskedCrossEntropy(z, tf.tensor2d([[0, 0, 0.5], [0, 0, 0]]), tf.tensor1d([1, 0]));
  assert.ok(Math.abs(l2.dataSync()[0] - 0.5 * want) < 1e-5);
  tf.dispose([z, zero, l0, y, l1, l2]);
});

Deno.test("the loss falls on a fixed batch", async () => {
  const tasks = [
    { name: "emotion" as const, classes: 7, labels: ["a", "b", "c", "d", "e", "f", "g"] },
    { name: "pose" as const, classes: 5, labels: ["a", "b", "c", "d", "e"] },
  ];
  const model = buildModel({ backbone: "mini_xception", tasks, inputShape: [32, 32, 1], seed: 3 });
  const optimizer = tf.train.adam(3e-3);
  const x = tf.randomNormal([8, 32, 32, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const ye = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 0], "int32"), 7), "float32") as tf.Tensor2D;
  const yp = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], "int32"), 5), "float32") as tf.Tensor2D;
  const me = tf.tensor1d([1, 1, 1, 1, 0, 0, 0, 0]);
  const mp = tf.tensor1d([0, 0, 0, 0, 1, 1, 1, 1]);
  const losses: number[] = [];
  for (let i = 0; i < 25; i++) {
    const r = await trainStep({ x, targets: { emotion: ye, pose: yp }, masks: { emotion: me, pose: mp } }, {
      model,
      optimizer,
      lossWeights: { emotion: 1, pose: 1 },
      terms: [],
      options: {},
    });
    assert.equal(r.fault, undefined);
    losses.push(r.total);
  }
  assert.ok(losses[24] < 0.5 * losses[0], `loss ${losses[0]} -> ${losses[24]}`);
  tf.dispose([x, ye, yp, me, mp]);
  optimizer.dispose();
  model.model.dispose();
});

Deno.test("STL, All-in-one, DML-LWF and distilling train end to end and write the run directory", async (t) => {
  const root = await Deno.makeTempDir();
  for (
    const [task, extra] of [
      ["stl", ["--dataset=synth-pose", "--task=pose", "--epoch=2"]],
      ["all-in-one", ["--epoch=2"]],
      ["dml-lwf", ["--epoch=2"]],
      ["distilling", ["--epoch=2", "--distill_loss=plain"]],
    ] as const
  ) {
    await t.step(task, async () => {
      const dir = join(root, task);
      const out = await train(task, [...extra, `--out=${dir}`]);
      assert.equal(out.dir, dir);
      for (const f of ["config.json", "log.csv", "summary.json", "plots/loss.png", "plots/accuracy.svg"]) {
        await Deno.stat(join(dir, f));
      }
      for (const which of ["best", "last"]) await Deno.stat(join(dir, "checkpoint", which, "manifest.json"));
      const cfg = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
      assert.equal(cfg.method, task);
      assert.equal(cfg.options.seed, 1);
      assert.ok(cfg.backend.name);
      // The run names the code that trained it: the checkout's commit (a copy without git records none).
      const gitHead = await new Deno.Command("git", {
        args: ["rev-parse", "--short=12", "HEAD"],
        stdout: "piped",
      })
        .output().then((o) => o.success ? new TextDecoder().decode(o.stdout).trim() : undefined)
        .catch(() => undefined);
      if (gitHead) assert.match(cfg.versions.commit, new RegExp(`^${gitHead}(\\+dirty)?$`));
      else assert.equal(cfg.versions.commit, undefined);
      const rows = await readLog(dir);
      assert.equal(rows.length, 2);
      const summary = out.summary!;
      assert.equal(summary.epochs, 2);
      const accKeys = Object.keys(summary.test).filter((k) => k.endsWith("/test/acc"));
      assert.equal(accKeys.length, task === "stl" ? 1 : 2);
      for (const k of accKeys) assert.ok(summary.test[k] >= 0 && summary.test[k] <= 1);
      const confusions = [...Deno.readDirSync(join(dir, "confusion"))].map((e) => e.name);
      const head = task === "stl" ? "pose_synth-pose" : "emotion_synth-emotion";
      assert.ok(confusions.includes(`epoch_1_${head}_val.csv`), confusions.join(" "));
      assert.ok(confusions.includes(`epoch_${summary.bestEpoch}_${head}_test.csv`), confusions.join(" "));
      // The per-row test predictions are the ones behind the reported accuracy and confusion matrix.
      for (const k of accKeys) {
        const [tk, ds] = k.split("/");
        const p = await readTestPredictions(testPredictionsPath(dir, summary.bestEpoch, tk, ds));
        const right = p.truth.filter((c, i) => c === p.pred[i]).length;
        assert.equal(right / p.row.length, summary.test[k], k);
        assert.equal(p.row.length, summary.evalRows[`${tk}/${ds}/test`]);
        assert.ok(summary.evalRows[`${tk}/${ds}/val`] > 0);
        const conf = parseCsv(
          await Deno.readTextFile(join(dir, "confusion", `epoch_${summary.bestEpoch}_${tk}_${ds}_test.csv`)),
        );
        const cols = conf.columns.slice(1);
        conf.rows.forEach((r, i) =>
          cols.forEach((c, j) => {
            const n = p.truth.filter((x, q) => x === i && p.pred[q] === j).length;
            assert.equal(Number(r[c]), n, `${k} confusion[${i}][${j}]`);
          })
        );
      }
      if (task === "stl") {
        // What compare reads of the run: per-row correctness beside the accuracy, and the row counts.
        const r = await readRun(dir, { method: "stl", seed: 1, task: "pose", dir, args: ["run", "stl"] });
        const t0 = r.results[0];
        assert.equal(t0.testCorrect!.length, t0.nTest);
        assert.equal([...t0.testCorrect!].filter((c) => c === "1").length / t0.nTest!, t0.testAcc);
        assert.match(t0.testRows!, new RegExp(`^${t0.nTest}:`));
        assert.equal(t0.nVal, summary.evalRows["pose/synth-pose/val"]);
        assert.ok(r.curves.every((c) => typeof c.imagesSeen === "number" && c.imagesSeen > 0));
      }
      if (task === "dml-lwf" || task === "distilling") {
        // Alternating: epoch 0 trains emotion and distils pose for it; pseudo accuracy is scored.
        // An accuracy in [0, 1], not an empty cell (Number("") would be 0).
        for (const [r, k] of [[0, "pose/synth-emotion"], [1, "emotion/synth-pose"]] as const) {
          const v = rows[r][`${k}/train/pseudo_acc`];
          assert.ok(v !== undefined && v !== "" && Number(v) >= 0 && Number(v) <= 1, `${k} pseudo_acc: ${v}`);
        }
        assert.equal(Number(rows[0]["pose/synth-emotion/train/targeted_fraction"]), 1);
      }
    });
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("distilled teacher targets are row-normalised (docs/original.md B6 fixed) and the compat profile is not", async () => {
  const { buildTeacherTargets } = await import("../runner/train/teacher.ts");
  const { distilledStrategy } = await import("../core/labels/mod.ts");
  const { loadDataset } = await import("../datasets/mod.ts");
  const { Rng } = await import("../core/rng.ts");
  const opts = { imageSize: 32, channels: 1 as const, seed: 1, size: 120 };
  const e = await loadDataset("synth-emotion", opts);
  const p = await loadDataset("synth-pose", opts);
  const tasks = [e.tasks[0], p.tasks[0]];
  const model = buildModel({ backbone: "mini_xception", tasks, inputShape: [32, 32, 1], seed: 1 });
  for (const compat of [false, true]) {
    const out = await buildTeacherTargets({
      model,
      strategy: distilledStrategy,
      ctx: { options: { distill_t: 2 }, rng: new Rng(1), compat },
      targetsFor: [e],
      all: [e, p],
      trainRows: new Map([[e.name, e.split.train], [p.name, p.split.train]]),
      hidden: new Map(),
      batchSize: 64,
    });
    assert.equal(out.length, 1);
    assert.equal(out[0].task, "pose");
    let total = 0;
    for (const r of e.split.train) {
      let s = 0;
      for (let c = 0; c < 5; c++) s += out[0].targets[r * 5 + c];
      if (!compat) assert.ok(Math.abs(s - 1) < 1e-5, `row ${r} sums to ${s}`);
      total += s;
    }
    if (compat) assert.ok(Math.abs(total - 1) < 1e-4, `global softmax sums to 1 over all rows, got ${total}`);
  }
  model.model.dispose();
});

Deno.test("the tensor count stays flat across epochs", async () => {
  const dir = await Deno.makeTempDir();
  const counts: number[] = [];
  await train("sa-mtl", ["--epoch=4", `--out=${dir}/run`], {
    onEpochEnd: () => counts.push(tf.memory().numTensors),
  });
  assert.equal(counts.length, 4);
  assert.ok(counts[3] <= counts[1], `tensor count grew across epochs: ${counts.join(", ")}`);
  assert.ok(counts[2] <= counts[1], `tensor count grew across epochs: ${counts.join(", ")}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("every plugin: a run resumed after epoch 1 ends exactly like an uninterrupted 2-epoch run", async (t) => {
  const dir = await Deno.makeTempDir();
  const seed = ["--seed=5"];
  try {
    for (const plugin of await discoverPlugins()) {
      // A joint teacher's first labels come after epoch 1, from the model the resumed run restores.
      await t.step(plugin.name, async () => {
        const data = plugin.dataMode === "single" ? ["--dataset=synth-emotion", "--task=emotion"] : [];
        const out = (name: string) => `--out=${dir}/${plugin.name}-${name}`;
        const full = await train(plugin.name, ["--epoch=2", ...seed, ...data, out("full")]);
        await train(plugin.name, ["--epoch=1", ...seed, ...data, out("part")]);
        const resumed = await train(plugin.name, [
          "--epoch=2",
          "--resume",
          `--run=${dir}/${plugin.name}-part`,
        ]);
        assert.deepEqual(resumed.summary!.test, full.summary!.test);
        const a = await readLog(`${dir}/${plugin.name}-full`);
        const b = await readLog(`${dir}/${plugin.name}-part`);
        assert.equal(b.length, 2);
        // Every number of epoch 2 but the clock: losses, accuracies, the teacher's statistics, images seen.
        for (const k of Object.keys(a[1]).filter((k) => k !== "time_s")) assert.equal(b[1][k], a[1][k], k);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the test split is scored once, on the epoch chosen on validation, also when a later epoch was worse", async () => {
  const dir = await Deno.makeTempDir();
  // Validation labels scrambled (each val row takes the label of the next one), so validation accuracy
  // wanders near chance and the selected epoch is often not the last: the trainer must then restore
  // checkpoint/best before it scores the test split.
  const scramble = (sets: ImageSet[]) => {
    for (const s of sets) {
      const y = s.labels.pose!;
      const v = s.split.val;
      const first = y[v[0]];
      for (let i = 0; i + 1 < v.length; i++) y[v[i]] = y[v[i + 1]];
      y[v[v.length - 1]] = first;
    }
  };
  const epochs = 4;
  let restored = 0;
  for (const seed of [1, 2, 3, 4]) {
    const out = `${dir}/s${seed}`;
    const args = [
      "--dataset=synth-pose",
      "--task=pose",
      `--epoch=${epochs}`,
      `--seed=${seed}`,
      `--out=${out}`,
    ];
    const res = await train("stl", args, { afterLoad: scramble });
    const summary = res.summary!;
    if (summary.bestEpoch < epochs) restored++;
    // log.csv holds what was measured every epoch: validation, not test.
    const rows = await readLog(out);
    assert.equal(rows.length, epochs);
    assert.ok(Object.keys(rows[0]).every((k) => !k.includes("/test/")), Object.keys(rows[0]).join(" "));
    // One set of test files, under the selected epoch.
    const preds = [...Deno.readDirSync(join(out, "predictions"))].map((e) => e.name);
    assert.deepEqual(preds, [`epoch_${summary.bestEpoch}_pose_synth-pose_test.csv`]);
    const tests = [...Deno.readDirSync(join(out, "confusion"))].map((e) => e.name).filter((n) =>
      n.endsWith("_test.csv")
    );
    assert.deepEqual(tests, [`epoch_${summary.bestEpoch}_pose_synth-pose_test.csv`]);
    // The reported test accuracy is the one of checkpoint/best (not of the last epoch's weights).
    const [best] = await evaluateRun({ run: out, split: "test", checkpoint: "best", quiet: true });
    assert.equal(summary.test["pose/synth-pose/test/acc"], best.acc);
    assert.equal(summary.test["pose/synth-pose/test/loss"], best.loss);
    assert.equal(summary.evalRows["pose/synth-pose/test"], best.n);
  }
  // The restore path ran (the seeds were checked to select an earlier epoch at least once).
  assert.ok(restored > 0, "no seed selected an epoch before the last");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a short run's evaluation is not at chance (BatchNorm statistics recalibrated)", async () => {
  const dir = await Deno.makeTempDir();
  const out = await train("stl", [
    "--dataset=digits-rot-a",
    "--task=digit",
    "--epoch=2",
    "--train_size=600",
    `--out=${dir}/r`,
  ]);
  const acc = out.summary!.test["digit/digits-rot-a/test/acc"];
  assert.ok(acc > 0.3, `digit test accuracy ${acc} is near chance (0.1)`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("run --config=RUN/config.json reruns a past run exactly", async () => {
  const dir = await Deno.makeTempDir();
  const first = await train("sa-mtl", ["--epoch=2", "--seed=3", "--preset=hard", `--out=${dir}/a`]);
  const again = await resolveRun("run", [`--config=${dir}/a/config.json`, `--out=${dir}/b`], {
    print: () => {},
  });
  assert.equal(again?.plugin.name, "sa-mtl");
  assert.equal(again?.options.selection_threshold, 0.8);
  const second = await executeRun(again!, quietLog);
  assert.deepEqual(second.summary!.test, first.summary!.test);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--lr_schedule=cosine sets the optimizer's LR per step over the whole run; a resumed run follows the same curve", async () => {
  const dir = await Deno.makeTempDir();
  const args = ["--epoch=3", "--lr_schedule=cosine", "--lr_warmup=0.1"];
  await train("all-in-one", [...args, `--out=${dir}/a`]);
  const lr = (await readLog(`${dir}/a`)).map((r) => Number(r.lr));
  // Logged: the LR of each epoch's last step, under 3e-3 and falling towards zero.
  assert.equal(lr.length, 3);
  assert.ok(lr[0] < 3e-3 && lr[0] > lr[1] && lr[1] > lr[2] && lr[2] < 1e-5, lr.join(", "));
  // Epoch 1 ends a third of the way through the run: cos decay at (1/3 - 0.1) / 0.9 of its length.
  const p = (1 / 3 - 0.1) / 0.9;
  assert.ok(Math.abs(lr[0] / 3e-3 - 0.5 * (1 + Math.cos(Math.PI * p))) < 0.05, `${lr[0]}`);
  // A crash in epoch 2 (after epoch 1's checkpoint), then --resume: the same LRs and the same model.
  await assert.rejects(
    () =>
      train("all-in-one", [...args, `--out=${dir}/b`], {
        onEpochEnd: (_e: number, row: Record<string, number | string>) => {
          if (row.epoch === 2) throw new Error("crash");
        },
      }),
    /crash/,
  );
  const resumed = await resolveRun("all-in-one", withFlags(TINY, [...args, "--resume", `--run=${dir}/b`]), {
    print: () => {},
  });
  const second = await executeRun(resumed!, quietLog);
  assert.deepEqual((await readLog(`${dir}/b`)).map((r) => Number(r.lr)), lr);
  const full = JSON.parse(await Deno.readTextFile(join(dir, "a", "summary.json")));
  assert.deepEqual(second.summary!.test, full.test);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("early stopping and LR reduction act at the outer-epoch level", async () => {
  const dir = await Deno.makeTempDir();
  // lr 0: the validation loss cannot improve after the first epoch.
  const stop = await train("all-in-one", [
    "--epoch=6",
    "--lr=0",
    "--early_stopping",
    "--patience=1",
    `--out=${dir}/s`,
  ]);
  assert.equal((await readLog(`${dir}/s`)).length, 2, "stopped after patience 1");
  assert.equal(stop.summary!.epochs, 6);
  const run = await resolveRun(
    "all-in-one",
    withFlags(TINY, [
      "--epoch=3",
      "--lr=0",
      "--reduce_lr",
      "--patience=1",
      `--out=${dir}/r`,
    ]),
    {
      print: () => {},
    },
  );
  const lines: string[] = [];
  await executeRun(run!, (l) => lines.push(l));
  assert.ok(
    lines.some((l) => /^epoch 2: validation loss flat for 1 epochs, lr -> 0$/.test(l)),
    lines.join("\n"),
  );
  assert.equal((await readLog(`${dir}/r`)).length, 3, "LR reduction does not stop the run");
  await Deno.remove(dir, { recursive: true });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend } from "../runner/backend.ts";
import { Rng } from "../core/rng.ts";
import type { MultiTaskModel, TaskSpec } from "../core/types.ts";
import { buildModel, hasCheckpoint, loadCheckpoint, openCheckpoint, saveCheckpoint } from "../models/mod.ts";

await initBackend({ backend: "cpu", quiet: true });

const TASKS: TaskSpec[] = [
  { name: "emotion", classes: 7, labels: [] },
  { name: "pose", classes: 5, labels: [] },
];

function model(seed: number) {
  return buildModel({ backbone: "mini_xception", tasks: TASKS, inputShape: [32, 32, 1], seed, isBn: true });
}

function step(m: MultiTaskModel, opt: tf.Optimizer, x: tf.Tensor4D, y: tf.Tensor2D): number {
  const loss = opt.minimize(
    () => {
      const out = m.apply(x, true);
      return tf.add(
        tf.losses.softmaxCrossEntropy(y, out.logits.emotion!),
        tf.mean(tf.square(out.logits.pose!)),
      ) as tf.Scalar;
    },
    true,
    m.trainableWeights(),
  )!;
  const v = loss.dataSync()[0];
  loss.dispose();
  return v;
}

function weightsOf(m: MultiTaskModel): Float32Array[] {
  return m.model.weights.map((w) => w.read().dataSync() as Float32Array);
}

Deno.test("checkpoint round trip: identical outputs and identical next training step", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_test_" });
  try {
    const x = tf.randomNormal([4, 32, 32, 1], 0, 1, "float32", 1) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([0, 3, 6, 2], "int32"), 7) as tf.Tensor2D;
    const a = model(1);
    const optA = tf.train.adam(1e-3);
    step(a, optA, x, y);
    step(a, optA, x, y);
    const rng = new Rng(42);
    rng.next();
    const targets = new Float32Array([0.25, 0.5, 1, -3.5]);
    const rows = new Int32Array([7, -1, 3]);
    const state = { epoch: 3, batch: 11, rng: rng.getState(), options: { lr: 1e-3, method: "sa-mtl" } };
    await saveCheckpoint(dir, {
      model: a,
      optimizer: optA,
      state,
      blobs: { targets, rows, mask: new Uint8Array([1, 0, 1]) },
    });
    assert.ok(await hasCheckpoint(dir));

    const b = model(99); // different initial weights
    const optB = tf.train.adam(1e-3);
    const loaded = await loadCheckpoint(dir, { model: b, optimizer: optB });
    assert.deepEqual(loaded.state, state);
    assert.deepEqual(loaded.blobs.targets, targets);
    assert.deepEqual(loaded.blobs.rows, rows);
    assert.deepEqual(loaded.blobs.mask, new Uint8Array([1, 0, 1]));
    const restoredRng = new Rng(0);
    restoredRng.setState((loaded.state as typeof state).rng);
    assert.equal(restoredRng.next(), rng.next());

    const oa = a.apply(x, false);
    const ob = b.apply(x, false);
    assert.deepEqual(oa.logits.emotion!.dataSync(), ob.logits.emotion!.dataSync());
    assert.deepEqual(oa.features.pose!.dataSync(), ob.features.pose!.dataSync());

    const la = step(a, optA, x, y);
    const lb = step(b, optB, x, y);
    assert.equal(la, lb);
    const wa = weightsOf(a);
    const wb = weightsOf(b);
    wa.forEach((w, i) => assert.deepEqual(w, wb[i], `weight ${a.model.weights[i].name} after the next step`));
    assert.equal(optA.iterations, optB.iterations);

    // A second save replaces the first atomically: new generation, old files gone.
    await saveCheckpoint(dir, { model: a, optimizer: optA, state: { epoch: 4 } });
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "blobs-2.bin",
      "manifest.json",
      "optimizer-2.bin",
      "state-2.json",
      "weights-2.bin",
    ]);
    // Leftovers of an interrupted third save do not affect loading.
    await Deno.writeTextFile(join(dir, "weights-3.bin"), "partial");
    const ck = await openCheckpoint(dir);
    assert.deepEqual(ck.state, { epoch: 4 });
    tf.dispose([x, y]);
    a.model.dispose();
    b.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint errors name the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_test_" });
  try {
    const m = model(1);
    await saveCheckpoint(dir, { model: m, state: { epoch: 1 } });
    const path = join(dir, "weights-1.bin");
    const bytes = await Deno.readFile(path);
    bytes[100] ^= 0xff;
    await Deno.writeFile(path, bytes);
    await assert.rejects(openCheckpoint(dir), (e: Error) => {
      assert.match(e.message, /weights-1\.bin: checksum mismatch/);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
    await Deno.remove(path);
    await assert.rejects(openCheckpoint(dir), /weights-1\.bin: file missing/);
    await assert.rejects(openCheckpoint(join(dir, "nope")), /no manifest\.json/);

    // Restoring into a different architecture is refused with the differing keys.
    await saveCheckpoint(dir, { model: m, state: null });
    const other = buildModel({
      backbone: "mini_xception",
      tasks: [TASKS[0]],
      inputShape: [32, 32, 1],
      seed: 1,
    });
    await assert.rejects(loadCheckpoint(dir, { model: other }), /model does not match/);
    // Unnamed extension layers get process-dependent auto names; identical builds still restore (by position).
    const ext = () =>
      buildModel({
        backbone: "mini_xception",
        tasks: TASKS,
        inputShape: [32, 32, 1],
        seed: 5,
        extension: (ctx) => ({
          extra: { emb: tfl.layers.dense({ units: 4 }).apply(ctx.logits.emotion!) as tfl.SymbolicTensor },
        }),
      });
    const e1 = ext();
    await saveCheckpoint(dir, { model: e1 });
    const e2 = ext();
    assert.notEqual(e1.model.layers.at(-1)!.name, e2.model.layers.at(-1)!.name);
    await loadCheckpoint(dir, { model: e2 });
    const xe = tf.randomNormal([2, 32, 32, 1], 0, 1, "float32", 8) as tf.Tensor4D;
    assert.deepEqual(e1.apply(xe, false).extra.emb.dataSync(), e2.apply(xe, false).extra.emb.dataSync());
    [e1, e2].forEach((e) => e.model.dispose());
    xe.dispose();

    // An optimizer of another class is refused.
    const opt = tf.train.adam(1e-3);
    step(
      m,
      opt,
      tf.zeros([2, 32, 32, 1]) as tf.Tensor4D,
      tf.oneHot(tf.tensor1d([0, 1], "int32"), 7) as tf.Tensor2D,
    );
    await saveCheckpoint(dir, { model: m, optimizer: opt });
    await assert.rejects(loadCheckpoint(dir, { optimizer: tf.train.sgd(0.1) }), /optimizer is Adam/);
    m.model.dispose();
    other.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

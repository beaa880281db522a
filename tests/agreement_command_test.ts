/**
 * `deno task demo:agreement` end to end on a labels file of one's own (face-api's sample1.jpg copied into a
 * folder, its three committed labels, no npm package): the JSON, the files under --out, --dry_run, and the
 * heads' answers equal to what demo:image writes for the same faces (same detector, same crops), so the
 * agreement table measures exactly what the demo shows.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exitCodeOf } from "../core/user_errors.ts";
import { AGREEMENT_FORMAT_VERSION, agreementMain } from "../demo/pretrained/agreement_cli.ts";
import { imageDemoMain } from "../demo/image_demo.ts";
import { faceApiDir } from "../demo/detect.ts";
import { loadRealFaceLabels } from "../demo/pretrained/real_faces.ts";
import { stdoutOf } from "./_stdout.ts";

const ALL_HEADS = "--heads=pretrained:emotion,pose,gender,age";

async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

async function agreementOnOwnLabels(tmp: string): Promise<void> {
  const photoDir = join(tmp, "photos");
  await Deno.mkdir(photoDir);
  await Deno.copyFile(join(faceApiDir(), "demo", "sample1.jpg"), join(photoDir, "sample1.jpg"));
  const committed = (await loadRealFaceLabels()).find((p) => p.path === "demo/sample1.jpg")!;
  assert.equal(committed.faces.length, 3);
  const labels = join(tmp, "labels.json");
  await Deno.writeTextFile(
    labels,
    JSON.stringify({ photos: [{ path: "photos/sample1.jpg", faces: committed.faces }] }),
  );

  // --dry_run: the resolved settings, nothing written even with --out.
  const out = join(tmp, "out");
  const dry = await stdoutOf(() =>
    exitCodeOf(agreementMain, [`--labels=${labels}`, `--out=${out}`, "--dry_run", "--json"])
  );
  assert.equal(dry.code, 0);
  const settings = JSON.parse(dry.out);
  assert.deepEqual([settings.photos, settings.faces, settings.written], [1, 3, false]);
  assert.deepEqual(
    settings.pretrained,
    ["emotion", "pose", "gender", "age"],
    "every pretrained head by default",
  );
  assert.deepEqual(await listing(tmp), ["labels.json", "photos"]);

  const measured = await stdoutOf(() =>
    exitCodeOf(agreementMain, [`--labels=${labels}`, `--out=${out}`, "--json"])
  );
  assert.equal(measured.code, 0);
  const result = JSON.parse(measured.out);
  assert.deepEqual(result.rows[0], {
    task: "detection",
    measure: "labelled faces found by the detector",
    agree: 3,
    total: 3,
    target: 0,
  });
  assert.deepEqual(
    result.rows.filter((r: { target: number }) => r.target > 0).map((r: { task: string }) => r.task).sort(),
    ["age", "emotion", "gender", "pose"],
  );
  // Three rows without a target: detection, the smile rule's other side, the exact age group.
  assert.equal(result.rows.filter((r: { target: number }) => r.target === 0).length, 3);
  assert.equal(result.outcomes.length, 3);
  assert.deepEqual(await listing(out), ["agreement.json", "agreement.md"]);
  const saved = JSON.parse(await Deno.readTextFile(join(out, "agreement.json")));
  assert.equal(saved.formatVersion, AGREEMENT_FORMAT_VERSION);
  assert.deepEqual(saved.rows, result.rows);
  assert.equal(saved.labels, labels);
  const md = await Deno.readTextFile(join(out, "agreement.md"));
  assert.match(md, /\| gender \| gender equals the hand label \| \d \| 3 \|/);

  // demo:image on the same photo: each labelled face's box (nearest centre) must carry the same answers.
  const demoOut = join(tmp, "demo");
  const shown = await stdoutOf(() =>
    exitCodeOf(imageDemoMain, [
      `--input=${join(photoDir, "sample1.jpg")}`,
      ALL_HEADS,
      `--out=${demoOut}`,
      "--quiet",
    ])
  );
  assert.equal(shown.code, 0);
  const drawn = JSON.parse(await Deno.readTextFile(join(demoOut, "sample1.json")));
  for (
    const o of result.outcomes as {
      label: { at: [number, number] };
      heads: Record<string, { label: string; prob: number; probs: Record<string, number> }>;
    }[]
  ) {
    const centre = (f: { box: { x: number; y: number; width: number; height: number } }) =>
      Math.hypot(f.box.x + f.box.width / 2 - o.label.at[0], f.box.y + f.box.height / 2 - o.label.at[1]);
    const face = [...drawn.faces].sort((a, b) => centre(a) - centre(b))[0];
    assert.deepEqual(Object.keys(face.heads).sort(), Object.keys(o.heads).sort());
    for (const [task, h] of Object.entries(o.heads)) {
      const d = face.heads[task];
      assert.equal(d.label, h.label, `${task} at ${o.label.at}`);
      for (const [k, p] of Object.entries(h.probs)) {
        assert.ok(Math.abs(d.probs[k] - p) < 1e-5, `${task} ${k}: demo ${d.probs[k]} vs agreement ${p}`);
      }
    }
  }
}

Deno.test("demo:agreement on one's own labels: JSON, --out, --dry_run, the answers demo:image draws", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "agreement_" });
  try {
    await agreementOnOwnLabels(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

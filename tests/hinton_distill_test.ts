/**
 * Hinton et al.'s distillation loss (arXiv 1503.02531) in the masked cross-entropy: the rows that carry
 * distilled targets are softened at T in the student too and their term is scaled by T². Checked against a
 * float64 reference and its central finite differences, at T = 1 against the plain loss, and end to end
 * (the distilled strategy sets the temperature, the trainer hands it to the loss, the old flag is refused).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import { maskedCrossEntropy } from "../core/loss.ts";
import { distilledStrategy } from "../core/labels/mod.ts";
import { Rng } from "../core/rng.ts";
import type { TeacherView } from "../core/plugin.ts";
import { resolveRun } from "../runner/commands.ts";
import { executeRun } from "../runner/run_command.ts";
import { parseCsv } from "../core/csv.ts";

await initBackend({ backend: "cpu", quiet: true });

/** The definition in float64: mean over masked rows of −τ² Σ_c y_c log softmax(z/τ)_c. */
function lossRef(z: number[][], y: number[][], mask: number[], tau: number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < z.length; i++) {
    if (!mask[i]) continue;
    den++;
    const s = z[i].map((v) => v / tau[i]);
    const m = Math.max(...s);
    const lse = m + Math.log(s.reduce((a, v) => a + Math.exp(v - m), 0));
    let ce = 0;
    for (let c = 0; c < s.length; c++) ce -= y[i][c] * (s[c] - lse);
    num += tau[i] * tau[i] * ce;
  }
  return num / Math.max(den, 1);
}

/** Central differences of {@link lossRef} with respect to every logit, in float64. */
function gradRef(z: number[][], y: number[][], mask: number[], tau: number[], h = 1e-5): number[] {
  const g: number[] = [];
  for (let i = 0; i < z.length; i++) {
    for (let c = 0; c < z[i].length; c++) {
      const plus = z.map((r) => [...r]);
      const minus = z.map((r) => [...r]);
      plus[i][c] += h;
      minus[i][c] -= h;
      g.push((lossRef(plus, y, mask, tau) - lossRef(minus, y, mask, tau)) / (2 * h));
    }
  }
  return g;
}

function softmax(v: number[], t: number): number[] {
  const e = v.map((x) => Math.exp(x / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

const Z = [[1.5, -0.3, 0.2], [0.1, 2.2, -1.0], [-0.7, 0.4, 0.9], [2.0, 1.0, -2.0]];
// Rows 0-1: distilled soft targets (teacher at T = 2, student at τ = 2); row 2: a one-hot label at τ = 1;
// row 3: masked.
const Y = [softmax([0.3, 1.0, -0.5], 2), softmax([2.0, -1.0, 0.5], 2), [0, 0, 1], [0, 0, 0]];
const MASK = [1, 1, 1, 0];
const TAU = [2, 2, 1, 1];

function tfLoss(z: tf.Tensor2D, tau?: number[]): tf.Scalar {
  const y = tf.tensor2d(Y);
  const m = tf.tensor1d(MASK);
  const t = tau ? tf.tensor1d(tau) : undefined;
  const l = maskedCrossEntropy(z, y, m, t);
  tf.dispose([y, m, ...(t ? [t] : [])]);
  return l;
}

Deno.test("masked cross-entropy at a per-row temperature", async (t) => {
  await t.step("value: the float64 definition, and T² times the soft cross-entropy at T", () => {
    const got = tf.tidy(() => tfLoss(tf.tensor2d(Z), TAU).dataSync()[0]);
    const want = lossRef(Z, Y, MASK, TAU);
    assert.ok(Math.abs(got - want) < 1e-5 * Math.abs(want), `${got} vs ${want}`);
    // Row 0 alone, by hand: 4 · (−Σ y log softmax(z/2)).
    const q = softmax(Z[0], 2);
    const row0 = 4 * -Y[0].reduce((a, yc, c) => a + yc * Math.log(q[c]), 0);
    assert.ok(Math.abs(lossRef([Z[0]], [Y[0]], [1], [2]) - row0) < 1e-12);
  });
  await t.step("gradient at T matches central finite differences of the float64 definition", () => {
    const g = tf.tidy(() =>
      tf.grad((z: tf.Tensor) => tfLoss(z as tf.Tensor2D, TAU))(tf.tensor2d(Z)).dataSync()
    );
    const fd = gradRef(Z, Y, MASK, TAU);
    for (let i = 0; i < fd.length; i++) {
      assert.ok(Math.abs(g[i] - fd[i]) < 1e-5, `[${i}] ${g[i]} vs ${fd[i]}`);
    }
    // The masked row gets no gradient; a soft row's gradient is τ (softmax(z/τ) − y) / N (Σ y = 1), whose
    // size is that of a τ = 1 row: the reason for the T² factor.
    for (let c = 0; c < 3; c++) assert.ok(g[9 + c] === 0, `${g[9 + c]}`);
    const q = softmax(Z[0], 2);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(g[c] - (2 * (q[c] - Y[0][c])) / 3) < 1e-6);
  });
  await t.step("T = 1 is the plain masked cross-entropy, value and gradient", () => {
    const ones = [1, 1, 1, 1];
    const [a, b] = tf.tidy(
      () => [tfLoss(tf.tensor2d(Z), ones).dataSync()[0], tfLoss(tf.tensor2d(Z)).dataSync()[0]],
    );
    assert.ok(Math.abs(a - b) < 1e-7, `${a} vs ${b}`);
    assert.ok(Math.abs(b - lossRef(Z, Y, MASK, ones)) < 1e-6);
    const ga = tf.tidy(() =>
      tf.grad((z: tf.Tensor) => tfLoss(z as tf.Tensor2D, ones))(tf.tensor2d(Z)).dataSync()
    );
    const gb = tf.tidy(() => tf.grad((z: tf.Tensor) => tfLoss(z as tf.Tensor2D))(tf.tensor2d(Z)).dataSync());
    for (let i = 0; i < ga.length; i++) assert.ok(Math.abs(ga[i] - gb[i]) < 1e-7);
  });
});

Deno.test("the distilled strategy gives its rows the student temperature T (hinton) or none (plain)", () => {
  const n = 3, C = 3;
  const logits = Float32Array.from([1, 0, -1, 0.5, 0.5, 0, 2, -2, 0]);
  const view = {
    n,
    task: { name: "pose", classes: C, labels: ["a", "b", "c"] },
    logits,
  } as unknown as TeacherView;
  const ctx = (o: Record<string, unknown>) => ({ options: o as never, rng: new Rng(1), compat: false });
  const hinton = distilledStrategy.build!(view, ctx({ distill_t: 2.5 })) as { temperature?: Float32Array };
  assert.deepEqual([...hinton.temperature!], [2.5, 2.5, 2.5]);
  const plain = distilledStrategy.build!(view, ctx({ distill_t: 2.5, distill_loss: "plain" }));
  assert.equal((plain as { temperature?: Float32Array }).temperature, undefined);
  assert.throws(() => distilledStrategy.build!(view, ctx({ t2_scaling: true })), /--t2_scaling was removed/);
});

Deno.test("--t2_scaling is refused with a pointer to --distill_loss; the presets say what they run", async () => {
  const quiet = { print: () => {} };
  await assert.rejects(() => resolveRun("distilling", ["--t2_scaling"], quiet), /--distill_loss=hinton/);
  assert.equal((await resolveRun("distilling", [], quiet))?.options.distill_loss, "hinton");
  const compat = await resolveRun("distilling", ["--preset=compat"], quiet);
  assert.equal(compat?.options.distill_loss, "plain");
  assert.equal(compat?.options.compat, true);
  // The seed README's distilling line still selects distilling.
  const seed = await resolveRun("alternative-ep", ["--is_distilled=True", "--distill_t=2"], quiet);
  assert.equal(seed?.plugin.name, "distilling");
});

Deno.test("the trainer hands the rows' temperature to the loss: hinton and plain differ only at T != 1", async () => {
  const root = await Deno.makeTempDir();
  const base = ["--train_size=96", "--image_size=32", "--batch_size=16", "--lr=3e-3", "--quiet", "--epoch=1"];
  let k = 0;
  const loss = async (name: string, flags: string[]) => {
    const dir = join(root, `run${k++}`);
    const run = await resolveRun(name, [...base, ...flags, `--out=${dir}`], { print: () => {} });
    await executeRun(run!, () => {});
    const rows = parseCsv(await Deno.readTextFile(join(dir, "log.csv"))).rows;
    // Epoch 1 trains emotion rows with distilled pose targets: the pose head's training loss.
    return Number(rows[0]["pose/all/train/loss"]);
  };
  const hinton = await loss("distilling", ["--distill_loss=hinton"]);
  const plain = await loss("distilling", ["--distill_loss=plain"]);
  assert.ok(Number.isFinite(hinton) && Number.isFinite(plain));
  assert.ok(Math.abs(hinton - plain) > 1e-3 * plain, `hinton ${hinton} vs plain ${plain}`);
  const h1 = await loss("dml-lwf", ["--distill_loss=hinton"]);
  const p1 = await loss("dml-lwf", ["--distill_loss=plain"]);
  assert.equal(h1, p1);
  await Deno.remove(root, { recursive: true });
});

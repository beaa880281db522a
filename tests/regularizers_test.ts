import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import {
  l21Norm,
  l21NormTerm,
  laplacianSmoothness,
  laplacianTerm,
  nuclearNorm,
  nuclearNormTerm,
  stackTaskKernels,
  symmetricEigen,
  traceNormTerm,
} from "../core/regularizers.ts";
import { Rng } from "../core/rng.ts";
import type { LossContext } from "../core/plugin.ts";
import type { MultiTaskModel, TaskSpec, WeightRole } from "../core/types.ts";

await initBackend({ backend: "cpu" });

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal(0, scale));
}

/** Central finite differences of a scalar function of one matrix, in float32 tensors. */
function finiteDiff(f: (x: tf.Tensor2D) => tf.Scalar, x: Float32Array, shape: [number, number], h: number) {
  const g = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const plus = Float32Array.from(x);
    const minus = Float32Array.from(x);
    plus[i] += h;
    minus[i] -= h;
    const fp = tf.tidy(() => f(tf.tensor2d(plus, shape)).dataSync()[0]);
    const fm = tf.tidy(() => f(tf.tensor2d(minus, shape)).dataSync()[0]);
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

function autoGrad(f: (x: tf.Tensor2D) => tf.Scalar, x: Float32Array, shape: [number, number]): Float32Array {
  return tf.tidy(() =>
    tf.grad((t: tf.Tensor) => f(t as tf.Tensor2D))(tf.tensor2d(x, shape)).dataSync()
  ) as Float32Array;
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, what: string) {
  assert.equal(a.length, b.length, what);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= rel * Math.max(scale, 1e-3), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

const value = (s: tf.Scalar) => {
  const v = s.dataSync()[0];
  s.dispose();
  return v;
};

/** Pairwise heat-kernel Laplacian term in float64 (the definition, not the implementation's algebra). */
function laplacianRef(f: number[][], p: number[][], sigma2: number): number {
  const b = f.length;
  let s = 0;
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      let d2 = 0;
      for (let c = 0; c < f[i].length; c++) d2 += (f[i][c] - f[j][c]) ** 2;
      let pd = 0;
      for (let c = 0; c < p[i].length; c++) pd += (p[i][c] - p[j][c]) ** 2;
      s += Math.exp(-d2 / (2 * sigma2)) * pd;
    }
  }
  return s / (2 * b);
}

Deno.test("l21 norm", async (t) => {
  await t.step("value by hand", () => {
    const w = tf.tensor2d([[3, 4], [0, 0], [1, 0]]);
    assert.ok(Math.abs(value(l21Norm(w)) - 6) < 1e-3);
    // A conv kernel [1,1,3,2] is read as the same 3x2 matrix.
    assert.ok(Math.abs(value(l21Norm(tf.reshape(w, [1, 1, 3, 2]))) - 6) < 1e-3);
    assert.equal(value(l21Norm(tf.zeros([4, 3]))), 0);
    w.dispose();
  });
  await t.step("gradient matches finite differences; finite at a zero row", () => {
    const rng = new Rng(1);
    const x = randn(rng, 12);
    x.fill(0, 0, 3); // row 0 is zero
    const f = (m: tf.Tensor2D) => l21Norm(m);
    const g = autoGrad(f, x, [4, 3]);
    assert.ok(g.every(Number.isFinite));
    for (let i = 0; i < 3; i++) assert.equal(g[i], 0);
    const fd = finiteDiff(f, x, [4, 3], 1e-2);
    assertClose(g.subarray(3), fd.subarray(3), 1e-2, "l21 grad");
  });
});

Deno.test("laplacian smoothness", async (t) => {
  const f = [[0, 0], [1, 0], [0, 2], [3, 1]];
  const p = [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.5, 0.5]];
  await t.step("value with fixed sigma and with the median heuristic", () => {
    const ft = tf.tensor2d(f);
    const pt = tf.tensor2d(p);
    const got = value(laplacianSmoothness(ft, pt, { sigma2: 1.5 }));
    assert.ok(Math.abs(got - laplacianRef(f, p, 1.5)) < 1e-5, `${got}`);
    // Pairwise squared distances: 1, 4, 10, 5, 5, 10 -> median 5.
    const med = value(laplacianSmoothness(ft, pt));
    assert.ok(Math.abs(med - laplacianRef(f, p, 5)) < 1e-5, `${med}`);
    // Identical predictions: no penalty whatever the graph.
    assert.ok(Math.abs(value(laplacianSmoothness(ft, tf.fill([4, 2], 0.5) as tf.Tensor2D))) < 1e-7);
    assert.equal(value(laplacianSmoothness(tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 0]]))), 0);
    tf.dispose([ft, pt]);
  });
  await t.step("gradient wrt P and (live graph) wrt F matches finite differences", () => {
    const rng = new Rng(2);
    const fx = randn(rng, 5 * 3);
    const px = randn(rng, 5 * 2);
    const fT = tf.tensor2d(fx, [5, 3]);
    const pT = tf.tensor2d(px, [5, 2]);
    const byP = (m: tf.Tensor2D) => laplacianSmoothness(fT, m, { sigma2: 2 });
    assertClose(autoGrad(byP, px, [5, 2]), finiteDiff(byP, px, [5, 2], 1e-2), 1e-2, "dP");
    const byF = (m: tf.Tensor2D) => laplacianSmoothness(m, pT, { sigma2: 2, graphGradient: true });
    assertClose(autoGrad(byF, fx, [5, 3]), finiteDiff(byF, fx, [5, 3], 1e-2), 1e-2, "dF");
    // Default: the graph is a constant, so F gets no gradient (and the median's topk is never differentiated).
    const stopped = autoGrad((m) => laplacianSmoothness(m, pT), fx, [5, 3]);
    assert.ok(stopped.every((v) => v === 0));
    tf.dispose([fT, pT]);
  });
  await t.step("minimising it pulls the predictions of close samples together", () => {
    const fT = tf.tensor2d([[0, 0], [0.1, 0], [5, 5], [5.1, 5]]);
    const p = tf.variable(tf.tensor2d([[1, 0], [0, 1], [1, 0], [0, 1]]));
    const gap = () =>
      tf.tidy(() => tf.sum(tf.abs(tf.sub(tf.slice(p, [0, 0], [1, 2]), tf.slice(p, [1, 0], [1, 2])))));
    const before = value(gap() as tf.Scalar);
    const opt = tf.train.sgd(0.5);
    for (let i = 0; i < 20; i++) opt.minimize(() => laplacianSmoothness(fT, p as tf.Tensor2D));
    assert.ok(value(gap() as tf.Scalar) < 0.5 * before);
    tf.dispose([fT, p]);
    opt.dispose();
  });
});

Deno.test("nuclear norm", async (t) => {
  await t.step("symmetric eigen-decomposition reconstructs the matrix", () => {
    const a = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]);
    const { values, vectors } = symmetricEigen(a, 3);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let e = 0; e < 3; e++) s += vectors[r * 3 + e] * values[e] * vectors[c * 3 + e];
        assert.ok(Math.abs(s - a[r * 3 + c]) < 1e-9);
      }
    }
    assert.ok(Math.abs(values.reduce((x, y) => x + y, 0) - 12) < 1e-9);
  });
  await t.step(
    "eigen-decomposition: V diag(λ) Vᵀ = A and VᵀV = I on random, low-rank and diagonal matrices",
    () => {
      const rng = new Rng(12);
      const check = (a: Float64Array, k: number, what: string) => {
        const { values, vectors: v } = symmetricEigen(a, k);
        let scale = 1e-300;
        for (const x of a) scale = Math.max(scale, Math.abs(x));
        for (let r = 0; r < k; r++) {
          for (let c = 0; c < k; c++) {
            let s = 0;
            let o = 0;
            for (let e = 0; e < k; e++) {
              s += v[r * k + e] * values[e] * v[c * k + e];
              o += v[e * k + r] * v[e * k + c];
            }
            assert.ok(Math.abs(s - a[r * k + c]) < 1e-10 * Math.max(scale, 1), `${what} A[${r},${c}]`);
            assert.ok(Math.abs(o - (r === c ? 1 : 0)) < 1e-10, `${what} VᵀV[${r},${c}]`);
          }
        }
        return values;
      };
      for (const k of [1, 2, 5, 17, 40]) {
        const a = new Float64Array(k * k);
        for (let r = 0; r < k; r++) {
          for (let c = 0; c <= r; c++) a[r * k + c] = a[c * k + r] = rng.normal(0, 1);
        }
        check(a, k, `random ${k}`);
        // A Gram matrix of rank 3 (what the nuclear norm decomposes): k - 3 zero eigenvalues.
        const w = Float64Array.from({ length: 3 * k }, () => rng.normal(0, 1));
        const g = new Float64Array(k * k);
        for (let r = 0; r < k; r++) {
          for (let c = 0; c < k; c++) for (let q = 0; q < 3; q++) g[r * k + c] += w[q * k + r] * w[q * k + c];
        }
        const vals = Array.from(check(g, k, `rank-3 Gram ${k}`)).sort((x, y) => y - x);
        for (let i = 3; i < k; i++) {
          assert.ok(
            Math.abs(vals[i]) < 1e-9 * vals[0],
            `rank-3 Gram ${k}: λ${i} ${vals[i]}`,
          );
        }
      }
      const diag = Float64Array.from([3, 0, 0, 0, -1, 0, 0, 0, 3]);
      assert.deepEqual(Array.from(check(diag, 3, "diagonal")).sort(), [-1, 3, 3]);
      assert.deepEqual(Array.from(check(new Float64Array(16), 4, "zero")), [0, 0, 0, 0]);
    },
  );
  await t.step("values by hand", () => {
    const cases: [number[][], number][] = [
      [[[3, 0], [0, 4], [0, 0]], 7],
      [[[1, 1], [1, 1]], 2], // rank 1, singular value 2
      [[[0, 0], [0, 0]], 0],
    ];
    // W = R(θ) diag(2, 0.5) R(φ)ᵀ has singular values 2 and 0.5.
    const [c1, s1, c2, s2] = [Math.cos(0.3), Math.sin(0.3), Math.cos(1.1), Math.sin(1.1)];
    const rot = [[2 * c1 * c2 + 0.5 * s1 * s2, 2 * c1 * s2 - 0.5 * s1 * c2], [
      2 * s1 * c2 - 0.5 * c1 * s2,
      2 * s1 * s2 + 0.5 * c1 * c2,
    ]];
    cases.push([rot, 2.5]);
    // Wide matrices (d < K: the d×d Gram is decomposed): diag(3, 4) padded, and a rank-1 outer product
    // [1 2]ᵀ[1 1 1] with singular value ‖(1, 2)‖·‖(1, 1, 1)‖ = √15.
    cases.push([[[3, 0, 0], [0, 4, 0]], 7], [[[1, 1, 1], [2, 2, 2]], Math.sqrt(15)]);
    // The transpose has the same singular values.
    cases.push([rot.map((r) => [...r, 0]), 2.5]);
    for (const [m, want] of cases) {
      const got = value(nuclearNorm(tf.tensor2d(m)));
      assert.ok(Math.abs(got - want) < 1e-4, `${JSON.stringify(m)}: ${got} vs ${want}`);
    }
  });
  await t.step("gradient matches finite differences", () => {
    const rng = new Rng(3);
    const x = randn(rng, 6 * 3);
    const f = (m: tf.Tensor2D) => nuclearNorm(m);
    assertClose(autoGrad(f, x, [6, 3]), finiteDiff(f, x, [6, 3], 1e-2), 1e-2, "nuclear grad");
    // Wide: the gradient G^{-1/2} W from the d×d Gram.
    assertClose(autoGrad(f, x, [3, 6]), finiteDiff(f, x, [3, 6], 1e-2), 1e-2, "nuclear grad (wide)");
  });
});

/** A model stub: `heads` answer the `task_fc` role (the kernels the nuclear norm reads); `task_heads` throws. */
function fakeModel(tasks: TaskSpec[], shared: tf.Variable[], heads: tf.Variable[]): MultiTaskModel {
  return {
    tasks,
    weightsByRole: (role: WeightRole) => {
      if (role === "shared_fc") return shared;
      if (role === "task_fc") return heads;
      throw new Error(`the regularisers should not read ${role}`);
    },
  } as unknown as MultiTaskModel;
}

Deno.test("loss terms read the model and the options", async (t) => {
  const tasks: TaskSpec[] = [
    { name: "emotion", classes: 3, labels: ["a", "b", "c"] },
    { name: "pose", classes: 2, labels: ["l", "r"] },
  ];
  const rng = new Rng(4);
  const shared = tf.variable(tf.tensor2d(randn(rng, 6 * 4), [6, 4]));
  const heads = [
    tf.variable(tf.tensor2d(randn(rng, 4 * 3), [4, 3])),
    tf.variable(tf.tensor2d(randn(rng, 4 * 2), [4, 2])),
  ];
  const model = fakeModel(tasks, [shared], heads);

  await t.step("coefficients are gated by their flags", () => {
    assert.equal(l21NormTerm().coefficient({}), 0);
    assert.equal(l21NormTerm().coefficient({ is_lnorm: true }), 1e-4);
    assert.equal(traceNormTerm().coefficient({ is_trace_norm: true, trace_weight: 0.5 }), 0.5);
    assert.equal(traceNormTerm().coefficient({}), 0);
    // The Laplacian term is implied by the manifold methods: on unless --is_manifold=False.
    assert.equal(laplacianTerm().coefficient({}), 1e-3);
    assert.equal(laplacianTerm().coefficient({ laplacian_weight: 0.2 }), 0.2);
    assert.equal(laplacianTerm().coefficient({ is_manifold: false }), 0);
    assert.equal(nuclearNormTerm().coefficient({ is_nuclear_norm: false, nuclear_weight: 3 }), 0);
    assert.throws(
      () => nuclearNormTerm().coefficient({ is_nuclear_norm: true, nuclear_weight: -1 }),
      /nuclear_weight/,
    );
  });

  await t.step("terms give gradients to the weights they regularise", () => {
    const ctx = { model, options: {} } as unknown as LossContext;
    const before = tf.memory().numTensors;
    const g1 = tf.variableGrads(() => l21NormTerm().compute(ctx), [shared]);
    assert.ok(Math.abs(g1.value.dataSync()[0] - value(l21Norm(shared))) < 1e-5);
    assert.ok(tf.tidy(() => tf.sum(tf.abs(g1.grads[shared.name])).dataSync()[0]) > 0);
    const g2 = tf.variableGrads(() => nuclearNormTerm().compute(ctx), heads);
    const stacked = stackTaskKernels(heads);
    assert.ok(Math.abs(g2.value.dataSync()[0] - value(nuclearNorm(stacked))) < 1e-5);
    stacked.dispose();
    for (const h of heads) assert.equal(g2.grads[h.name].shape.join(), h.shape.join());
    // The trace norm is the nuclear norm of the shared kernel itself.
    const g3 = tf.variableGrads(() => traceNormTerm().compute(ctx), [shared]);
    assert.ok(Math.abs(g3.value.dataSync()[0] - value(nuclearNorm(shared))) < 1e-5);
    assert.ok(tf.tidy(() => tf.sum(tf.abs(g3.grads[shared.name])).dataSync()[0]) > 0);
    tf.dispose([g3.value, ...Object.values(g3.grads)]);
    tf.dispose([g1.value, g2.value, ...Object.values(g1.grads), ...Object.values(g2.grads)]);
    assert.equal(tf.memory().numTensors, before, "no leaked tensors");
  });

  await t.step("the Laplacian term builds its graph on the manifold outputs, not the feature tap", () => {
    const x = tf.tensor2d(randn(rng, 5 * 6), [5, 6]);
    const before = tf.memory().numTensors;
    const g = tf.variableGrads(() => {
      const pre = tf.matMul(x, shared) as tf.Tensor2D;
      const post = tf.relu(pre) as tf.Tensor2D;
      const pe = tf.softmax(tf.matMul(post, heads[0])) as tf.Tensor2D;
      const pp = tf.softmax(tf.matMul(post, heads[1])) as tf.Tensor2D;
      const me = tf.concat([post, pe], 1) as tf.Tensor2D;
      const mp = tf.concat([post, pp], 1) as tf.Tensor2D;
      const ctx = {
        model,
        outputs: {
          logits: {},
          features: { emotion: pre, pose: pre },
          extra: { manifold_emotion: me, manifold_pose: mp },
        },
        probs: { emotion: pe, pose: pp },
        masks: {},
        options: {},
      } as unknown as LossContext;
      const got = laplacianTerm().compute(ctx);
      const want = tf.add(laplacianSmoothness(me, pe), laplacianSmoothness(mp, pp));
      assert.ok(Math.abs(got.dataSync()[0] - want.dataSync()[0]) < 1e-6);
      // The pre-ReLU tap gives another graph, so another value: the term does not read it.
      const tap = tf.add(
        laplacianSmoothness(tf.concat([pre, pe], 1) as tf.Tensor2D, pe),
        laplacianSmoothness(tf.concat([pre, pp], 1) as tf.Tensor2D, pp),
      );
      assert.ok(Math.abs(tap.dataSync()[0] - got.dataSync()[0]) > 1e-6);
      const missing = { ...ctx, outputs: { ...ctx.outputs, extra: {} } } as unknown as LossContext;
      assert.throws(() => laplacianTerm().compute(missing), /no manifold_emotion output/);
      return got;
    }, [shared, ...heads]);
    assert.ok(Number.isFinite(g.value.dataSync()[0]));
    for (const v of [shared, ...heads]) assert.ok(g.grads[v.name].dataSync().every(Number.isFinite));
    tf.dispose([g.value, ...Object.values(g.grads)]);
    assert.equal(tf.memory().numTensors, before, "no leaked tensors");
    x.dispose();
  });
  tf.dispose([shared, ...heads]);
});

Deno.test("SFSMR and SLRM models carry the manifold outputs their Laplacian term reads", async () => {
  const { resolveRun } = await import("../runner/commands.ts");
  const { buildRunModel } = await import("../runner/run_config.ts");
  const heads: TaskSpec[] = [
    { name: "emotion", classes: 3, labels: ["a", "b", "c"] },
    { name: "pose", classes: 2, labels: ["l", "r"] },
  ];
  for (const method of ["sfsmr", "slrm", "all-in-one"]) {
    const run = await resolveRun(method, ["--image_size=32"], { print: () => {} });
    const m = buildRunModel({ plugin: run!.plugin, options: run!.options, heads });
    const x = tf.zeros([2, 32, 32, 1]) as tf.Tensor4D;
    const out = m.apply(x, false);
    const keys = Object.keys(out.extra).sort();
    assert.deepEqual(keys, method === "all-in-one" ? [] : ["manifold_emotion", "manifold_pose"], method);
    if (method !== "all-in-one") assert.deepEqual(out.extra.manifold_pose.shape, [2, 128 + 2]);
    tf.dispose([
      x,
      ...Object.values(out.logits),
      ...Object.values(out.features),
      ...Object.values(out.extra),
    ]);
    m.model.dispose();
  }
});

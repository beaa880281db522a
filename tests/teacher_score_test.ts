import assert from "node:assert/strict";
import { scoreAgainstTruth } from "../runner/train/teacher.ts";
import type { TeacherView } from "../core/plugin.ts";

Deno.test("pseudo-label accuracy counts only rows whose truth is known", () => {
  // 4 rows, 2 classes; the teacher says 0, 1, 0, 1; the truth is 0, 1, unknown, unknown.
  const probs = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.4, 0.6]);
  const view = {
    task: { name: "pose", classes: 2, labels: ["a", "b"] },
    n: 4,
    probs,
  } as unknown as TeacherView;
  const stats: Record<string, number> = {};
  const kept = Uint8Array.from([1, 0, 1, 0]);
  scoreAgainstTruth({
    stats,
    ts: { targets: probs, kept },
    view,
    rows: Int32Array.from([0, 1, 2, 3]),
    truth: Int32Array.from([0, 1, -1, -1]),
  });
  assert.equal(stats.pseudo_acc, 1, "2 of 2 known rows right (not 2 of 4)");
  assert.equal(stats.target_acc, 1);
  assert.equal(stats.pseudo_acc_kept, 1);
  assert.equal(stats.pseudo_acc_rejected, 1);
  assert.equal(stats.targeted_fraction, 1);
  const none: Record<string, number> = {};
  scoreAgainstTruth({
    stats: none,
    ts: { targets: probs },
    view,
    rows: Int32Array.from([0, 1, 2, 3]),
    truth: Int32Array.from([-1, -1, -1, -1]),
  });
  assert.ok(Number.isNaN(none.pseudo_acc), "no known row: accuracy is undefined, not 0");
});

Deno.test("a strategy that asks for peers sees the other datasets' rows that miss the task too", async () => {
  const { initBackend } = await import("../runner/backend.ts");
  const { buildTeacherTargets } = await import("../runner/train/teacher.ts");
  const { loadDataset } = await import("../datasets/mod.ts");
  const { buildModel } = await import("../models/mod.ts");
  const { Rng } = await import("../core/rng.ts");
  await initBackend({ backend: "cpu", quiet: true });
  const opts = { imageSize: 32, channels: 1 as const, seed: 1, size: 60 };
  const sets = await Promise.all(
    ["synth-emotion", "synth-pose", "synth-age-gender"].map((n) => loadDataset(n, opts)),
  );
  const tasks = sets.flatMap((s) => s.tasks);
  const model = buildModel({ backbone: "mini_xception", tasks, inputShape: [32, 32, 1], seed: 1 });
  const seen: { set: number; task: string; peers?: number; d: number; peerFeatures?: number }[] = [];
  let call = 0;
  const strategy = {
    name: "probe",
    needsTeacher: true,
    needsLabelled: () => false,
    needsPeers: () => true,
    build(view: TeacherView) {
      seen.push({
        set: call++,
        task: view.task.name,
        peers: view.peers?.n,
        d: view.d,
        peerFeatures: view.peers?.features.length,
      });
      return { targets: new Float32Array(view.n * view.task.classes) };
    },
  };
  const trainRows = new Map(sets.map((s) => [s.name, s.split.train]));
  await buildTeacherTargets({
    model,
    strategy,
    ctx: { options: {}, rng: new Rng(1), compat: false },
    targetsFor: sets,
    all: sets,
    trainRows,
    hidden: new Map(),
    batchSize: 32,
  });
  const n = sets.map((s) => s.split.train.length);
  const byTask = (task: string) => seen.filter((s) => s.task === task).map((s) => s.peers);
  // emotion is missing from synth-pose and synth-age-gender: each sees the other's rows; pose likewise.
  assert.deepEqual(byTask("emotion"), [n[2], n[1]]);
  assert.deepEqual(byTask("pose"), [n[2], n[0]]);
  // age and gender are missing from synth-emotion and synth-pose.
  assert.deepEqual(byTask("age"), [n[1], n[0]]);
  for (const s of seen) assert.equal(s.peerFeatures, s.peers! * s.d);
  model.model.dispose();
});

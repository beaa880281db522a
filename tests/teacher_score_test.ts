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

/**
 * Every method plugin, end to end through every command that opens a run: `run --dry_run`, then one tiny
 * epoch trained through the command line (`deno task <plugin> --json`), then `eval` of the run's checkpoint,
 * and the image and video demos and demo:agreement on it. A plugin whose model extension, options or
 * statistics the run-configuration module failed to carry would fail here (eval once could not rebuild
 * a LEL-LTN model).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../runner/main.ts";
import { discoverPlugins } from "../runner/registry.ts";
import { runEval } from "../runner/eval_command.ts";
import { readRunLog } from "../runner/train/run_log.ts";
import { videoDemoMain } from "../demo/video_demo.ts";
import { imageDemoMain } from "../demo/image_demo.ts";
import { sampleImages } from "../demo/detect.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { agreementMain } from "../demo/pretrained/agreement_cli.ts";
import { loadRealFaceLabels } from "../demo/pretrained/real_faces.ts";
import { stdoutOf } from "./_stdout.ts";

const TINY = ["--train_size=96", "--image_size=32", "--batch_size=16", "--quiet"];

Deno.test("every plugin: train a tiny run (one epoch, two for a joint teacher), then eval, the image and video demos and demo:agreement open it", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "every_plugin_" });
  const photo = join(root, "photo");
  await Deno.mkdir(photo);
  await Deno.copyFile(sampleImages()[0], join(photo, "s1.jpg"));
  // The same photo's three hand-labelled faces, as a labels file of one's own for demo:agreement.
  const labels = join(root, "labels.json");
  const sample1 = (await loadRealFaceLabels()).find((p) => p.path === "demo/sample1.jpg")!;
  await Deno.writeTextFile(
    labels,
    JSON.stringify({ photos: [{ path: "photo/s1.jpg", faces: sample1.faces }] }),
  );
  try {
    for (const plugin of await discoverPlugins()) {
      await t.step(plugin.name, async () => {
        const dir = join(root, plugin.name);
        const data = plugin.dataMode === "single" ? ["--dataset=synth-emotion", "--task=emotion"] : [];
        // Two epochs for a joint teacher: its first labels come after its first epoch.
        const epochs = `--epoch=${plugin.labels.needsTeacher && plugin.dataMode === "joint" ? 2 : 1}`;
        // `deno task run <plugin> --dry_run --json`: the resolved run, nothing written.
        const dryDir = join(root, `${plugin.name}_dry`);
        const dryRun = await stdoutOf(() =>
          main(["run", plugin.name, ...TINY, ...data, `--out=${dryDir}`, "--dry_run", "--json"])
        );
        assert.equal(dryRun.code, 0);
        assert.equal(JSON.parse(dryRun.out).dryRun.method, plugin.name);
        await assert.rejects(() => Deno.stat(dryDir), Deno.errors.NotFound);

        // Through the command line, as `deno task <plugin> --json` runs it: the summary is stdout's one object.
        const trainedOut = await stdoutOf(() =>
          main([plugin.name, epochs, ...TINY, ...data, `--out=${dir}`, "--json"])
        );
        assert.equal(trainedOut.code, 0);
        const summary = JSON.parse(trainedOut.out) as {
          run: string;
          interrupted?: boolean;
          test: Record<string, number>;
        };
        assert.equal(summary.run, dir);
        assert.ok(!summary.interrupted);
        const stlTask = plugin.dataMode === "single" ? "emotion" : undefined;

        const evaluated = await stdoutOf(() => runEval([`--run=${dir}`, "--json", "--quiet"]));
        assert.equal(evaluated.code, 0);
        const rows = JSON.parse(evaluated.out) as { metric: string; acc: number; n: number }[];
        // One row per labelled task and dataset: STL's one, the two of a multi-task run.
        assert.equal(rows.length, stlTask ? 1 : 2, rows.map((r) => r.metric).join(", "));
        for (const r of rows) {
          assert.ok(r.n > 0 && r.acc >= 0 && r.acc <= 1, `${r.metric}: acc ${r.acc} on ${r.n} rows`);
          // eval rebuilds the same model from config.json, so its test accuracy is the run's own.
          const own: number | undefined = summary.test[`${r.metric}/acc`];
          assert.ok(own !== undefined, `${r.metric} is one of the run's own test metrics`);
          assert.ok(Math.abs(own - r.acc) < 1e-9, `${r.metric}: eval ${r.acc} vs run ${own}`);
        }

        // eval --dry_run validates the run and its data, prints its settings, and writes nothing.
        const dry = await stdoutOf(() =>
          runEval([`--run=${dir}`, "--dry_run", `--out=${join(dir, "eval_dry")}`])
        );
        assert.equal(dry.code, 0);
        assert.match(dry.out, /dry run: .* nothing evaluated or written/);
        await assert.rejects(() => Deno.stat(join(dir, "eval_dry")), Deno.errors.NotFound);

        // The heads the demos must show: STL's one task, a multi-task run's two.
        const tasks = stlTask ? [stlTask] : ["emotion", "pose"];
        const demoOut = join(dir, "demo_out");
        const code = await imageDemoMain([`--run=${dir}`, `--input=${photo}`, `--out=${demoOut}`, "--quiet"]);
        assert.equal(code, 0);
        const json = JSON.parse(await Deno.readTextFile(join(demoOut, "s1.json")));
        assert.ok(json.faces.length > 0);
        for (const task of tasks) {
          assert.ok(json.faces[0].heads[task], `the demo shows the ${task} head`);
        }

        // demo:agreement measures the run's heads on the labelled faces: a row per head it has a rule for.
        const agreed = await stdoutOf(() =>
          exitCodeOf(agreementMain, [`--run=${dir}`, `--labels=${labels}`, "--json", "--quiet"])
        );
        assert.equal(agreed.code, 0);
        const table = JSON.parse(agreed.out) as { rows: { task: string; total: number; target: number }[] };
        assert.deepEqual(table.rows.filter((r) => r.target > 0).map((r) => r.task).sort(), [...tasks].sort());
        assert.equal(table.rows[0].total, 3, "the three labelled faces");

        // The video demo opens the same run: two frames of the generated sample GIF, the run's heads on each face.
        const videoOut = join(dir, "video_out");
        assert.equal(
          await videoDemoMain([
            `--run=${dir}`,
            `--out=${videoOut}`,
            "--max_frames=2",
            "--sample=gif",
            "--quiet",
          ]),
          0,
        );
        const frames = (await Deno.readTextFile(join(videoOut, "sample_pan.jsonl"))).trim().split("\n")
          .map((l) => JSON.parse(l));
        assert.equal(frames.length, 2);
        const faces = frames.flatMap((f) => f.faces);
        assert.ok(faces.length > 0, "the sample's faces are found");
        for (const task of tasks) {
          assert.ok(faces.every((f) => f.heads[task]), `every face in the video shows the ${task} head`);
        }

        // What the label strategy reports reaches log.csv (SA-MTL's factor means among them).
        // The header declares the teacher's columns up front, so a statistic counts only with a number in a row.
        const log = await readRunLog(dir);
        const logged = (suffix: string) =>
          log.columns.some((c) => c.endsWith(suffix) && log.rows.some((r) => typeof r[c] === "number"));
        if (plugin.labels.needsTeacher) assert.ok(logged("/train/pseudo_acc"), "pseudo_acc has a value");
        // The joint teachers' own statistics: DCN-AP's MRF changes, how often LEL-LTN's transfer agrees with its teacher.
        const own = { "dcn-ap": "/mrf_changed", "lel-ltn": "/ltn_agree_teacher" }[plugin.name];
        if (own) assert.ok(logged(own), `${own} has a value in log.csv`);
        if (plugin.name === "sa-mtl") {
          for (const k of ["mean_confidence", "mean_density", "mean_distribution"]) {
            assert.ok(logged(`pose/synth-emotion/train/${k}`), `log.csv has ${k}`);
          }
        }
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/**
 * Reliability: a corpus of bad inputs (each gives one clear line naming the file, row or flag, exit
 * status 2 and no run directory), non-finite values (stop or skip), and interrupted runs (SIGINT and
 * kill -9 followed by --resume give the same final metrics as an uninterrupted run).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../runner/main.ts";
import { resolveRun } from "../runner/commands.ts";
import { executeRun } from "../runner/run_command.ts";
import { initBackend } from "../runner/backend.ts";
import { parseCsv } from "../core/csv.ts";
import { writePatternImage } from "./fixtures/real_datasets.ts";

await initBackend({ backend: "wasm", quiet: true });

const TINY = ["--image_size=32", "--batch_size=16", "--lr=3e-3", "--quiet", "--backend=wasm"];

/** Run the CLI in-process; returns the exit code and what it printed to stderr. */
async function cli(args: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => err.push(a.map(String).join(" "));
  try {
    return { code: await main(args), err };
  } finally {
    console.error = orig;
  }
}

interface Row {
  file: string;
  label: number | string;
  split: string;
}

/** A prepared dataset folder (`db/<name>_cleaned.csv` + PNGs) with `perClass` rows of every class. */
async function prepared(
  root: string,
  name: string,
  task: string,
  classes: number,
  mutate?: (rows: Row[]) => void,
) {
  const rows: Row[] = [];
  for (let c = 0; c < classes; c++) {
    for (let k = 0; k < 4; k++) {
      const file = `prepared/${name}/${c}_${k}.png`;
      await writePatternImage(join(root, file), 24, 24, { seed: c * 10 + k });
      rows.push({ file, label: c, split: k < 2 ? "train" : k === 2 ? "val" : "test" });
    }
  }
  mutate?.(rows);
  const lines = [
    `db_name,full_path,${task},split`,
    ...rows.map((r) => `${name},${r.file},${r.label},${r.split}`),
  ];
  await Deno.mkdir(join(root, "db"), { recursive: true });
  await Deno.writeTextFile(join(root, "db", `${name}_cleaned.csv`), lines.join("\n") + "\n");
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test("bad inputs: one clear line, exit status 2, no run directory", async (t) => {
  const base = await Deno.makeTempDir();
  const cases: {
    name: string;
    setup: (root: string) => Promise<void>;
    args: string[];
    message: RegExp;
  }[] = [
    {
      name: "corrupt image",
      setup: async (root) => {
        await prepared(root, "fer2013", "emotion", 7);
        await Deno.writeFile(
          join(root, "prepared/fer2013/3_1.png"),
          new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]),
        );
      },
      args: ["stl", "--dataset=fer2013", "--task_type=0"],
      message: /fer2013_cleaned\.csv row 15 \(.*prepared\/fer2013\/3_1\.png\): unreadable image/,
    },
    {
      name: "truncated CSV row",
      setup: async (root) => {
        await prepared(root, "fer2013", "emotion", 7);
        const p = join(root, "db", "fer2013_cleaned.csv");
        const text = await Deno.readTextFile(p);
        await Deno.writeTextFile(p, text.trimEnd().replace(/,[^,\n]*,[^,\n]*$/, "") + "\n");
      },
      args: ["stl", "--dataset=fer2013", "--task_type=0"],
      message: /fer2013_cleaned\.csv: row 29 has 2 fields, the header has 4/,
    },
    {
      name: "unknown class",
      setup: (root) => prepared(root, "fer2013", "emotion", 7, (rows) => rows[5].label = 9),
      args: ["stl", "--dataset=fer2013", "--task_type=0"],
      message:
        /fer2013_cleaned\.csv row 7 \(prepared\/fer2013\/1_1\.png\): emotion '9' is not a class id 0-6/,
    },
    {
      name: "empty dataset",
      setup: (root) => prepared(root, "fer2013", "emotion", 7, (rows) => rows.splice(0)),
      args: ["stl", "--dataset=fer2013", "--task_type=0"],
      message: /fer2013/,
    },
    {
      name: "a class missing from the train split",
      setup: (root) =>
        prepared(
          root,
          "fer2013",
          "emotion",
          7,
          (rows) => rows.filter((r) => r.label === 6).forEach((r) => r.split = "test"),
        ),
      args: ["stl", "--dataset=fer2013", "--task_type=0"],
      message: /class 6 \(neutral\) of emotion is in the (val|test) split but not in the train split/,
    },
    {
      name: "dataset not prepared",
      setup: async () => {},
      args: ["stl", "--dataset=aflw", "--task_type=5"],
      message: /aflw.*deno task prep --dataset=aflw/,
    },
    {
      name: "flag out of range",
      setup: async () => {},
      args: ["all-in-one", "--epoch=0"],
      message: /--epoch: got "0", expected an integer in \[1, 100000\]/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const root = join(base, c.name.replaceAll(" ", "_"));
      await Deno.mkdir(root, { recursive: true });
      await c.setup(root);
      const out = join(root, "run");
      const r = await cli([...c.args, ...TINY, `--data_dir=${root}`, `--out=${out}`]);
      assert.equal(r.code, 2, `exit code; stderr: ${r.err.join(" | ")}`);
      const errLines = r.err.filter((l) => l.startsWith("error: "));
      assert.equal(errLines.length, 1, r.err.join("\n"));
      assert.ok(!errLines[0].includes("\n"));
      assert.match(errLines[0], c.message);
      assert.equal(await exists(out), false, "no run directory may be left behind");
    });
  }
  await t.step("--skip_bad_samples skips and lists the bad rows instead", async () => {
    const root = join(base, "skip");
    await prepared(root, "fer2013", "emotion", 7, (rows) => rows[5].label = 9);
    const r = await cli([
      "stl",
      "--dataset=fer2013",
      "--task_type=0",
      "--epoch=1",
      "--skip_bad_samples",
      ...TINY,
      `--data_dir=${root}`,
      `--out=${root}/run`,
    ]);
    assert.equal(r.code, 0, r.err.join("\n"));
    assert.ok(r.err.some((l) => /skipped 1 bad row/.test(l)), r.err.join("\n"));
    assert.ok(r.err.some((l) => /row 7 .*emotion '9' is not a class id/.test(l)), r.err.join("\n"));
  });
  await t.step("a checkpoint whose heads do not match the run", async () => {
    const root = join(base, "mismatch");
    await prepared(root, "fer2013", "emotion", 7);
    await prepared(root, "ferplus", "emotion", 8);
    const first = await cli([
      "stl",
      "--dataset=fer2013",
      "--task_type=0",
      "--epoch=1",
      ...TINY,
      `--data_dir=${root}`,
      `--out=${root}/a`,
    ]);
    assert.equal(first.code, 0, first.err.join("\n"));
    const r = await cli([
      "stl",
      "--dataset=ferplus",
      "--task_type=0",
      "--epoch=1",
      `--init_weights=${root}/a`,
      ...TINY,
      `--data_dir=${root}`,
      `--out=${root}/b`,
    ]);
    assert.equal(r.code, 2, r.err.join("\n"));
    assert.match(
      r.err.find((l) => l.startsWith("error:"))!,
      /checkpoint .*has shape \[128,7\], the model needs \[128,8\]|checkpoint .*model does not match/,
    );
    assert.equal(await exists(`${root}/b`), false);
  });
  await Deno.remove(base, { recursive: true });
});

Deno.test("a non-finite loss stops the run naming head and batch, or is skipped with --nan_policy=skip", async () => {
  const dir = await Deno.makeTempDir();
  const poison = (
    sets: {
      name: string;
      images: Float32Array;
      split: { train: Int32Array };
      height: number;
      width: number;
    }[],
  ) => {
    const s = sets[0];
    const per = s.height * s.width;
    const row = s.split.train[3];
    s.images.fill(NaN, row * per, (row + 1) * per);
  };
  const args = [...TINY, "--train_size=120", "--epoch=1", "--dataset=synth-emotion", "--task=emotion"];
  const stop = await resolveRun("stl", [...args, `--out=${dir}/stop`], { print: () => {} });
  await assert.rejects(
    () => executeRun(stop!, () => {}, { afterLoad: poison }),
    /non-finite loss in emotion \(NaN\) at epoch 1, batch \d+; stopping \(use --nan_policy=skip/,
  );
  const skip = await resolveRun("stl", [...args, "--nan_policy=skip", `--out=${dir}/skip`], {
    print: () => {},
  });
  const logs: string[] = [];
  const out = await executeRun(skip!, (s) => logs.push(s), { afterLoad: poison });
  assert.equal(out.summary!.skippedBatches, 1);
  assert.ok(logs.some((l) => /skipped epoch 1, batch \d+: non-finite loss in emotion/.test(l)));
  const acc = out.summary!.test["emotion/synth-emotion/test/acc"];
  assert.ok(Number.isFinite(acc), "the model never trained on NaN");
  const row = parseCsv(await Deno.readTextFile(`${dir}/skip/log.csv`)).rows[0];
  assert.equal(row.skipped_batches, "1");
  await Deno.remove(dir, { recursive: true });
});

/** Start a training subprocess. */
function spawn(args: string[]): Deno.ChildProcess {
  const mainPath = new URL("../runner/main.ts", import.meta.url).pathname;
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", mainPath, ...args],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function waitFor(path: string, child: Deno.ChildProcess, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!(await exists(path))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  void child;
}

Deno.test("kill -9 and SIGINT during training lose nothing: --resume ends like an uninterrupted run", async (t) => {
  const dir = await Deno.makeTempDir();
  const args = ["sa-mtl", ...TINY, "--train_size=120", "--epoch=8", "--seed=7", "--preset=hard"];
  const ref = await resolveRun("sa-mtl", [...args.slice(1), `--out=${dir}/ref`], { print: () => {} });
  const full = await executeRun(ref!, () => {});

  await t.step("kill -9 after the first checkpoint", async () => {
    const out = `${dir}/killed`;
    const child = spawn([...args, `--out=${out}`]);
    await waitFor(`${out}/checkpoint/last/manifest.json`, child, 120_000);
    child.kill("SIGKILL");
    await child.status;
    assert.equal(await exists(`${out}/summary.json`), false, "killed before the end");
    const r = await cli(["sa-mtl", "--resume", `--run=${out}`, "--quiet"]);
    assert.equal(r.code, 0, r.err.join("\n"));
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    assert.deepEqual(summary.test, full.summary!.test);
    const rows = parseCsv(await Deno.readTextFile(`${out}/log.csv`)).rows;
    assert.deepEqual(rows.map((x) => x.epoch), ["1", "2", "3", "4", "5", "6", "7", "8"]);
    // The run records its resume: when, from where, and the code that continued it.
    const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
    assert.equal(config.resumes.length, 1);
    assert.ok(config.resumes[0].epoch >= 1 && config.resumes[0].epoch < 8, JSON.stringify(config.resumes));
    assert.equal(config.resumes[0].versions.commit, config.versions.commit);
  });

  await t.step("SIGINT finishes the step, checkpoints mid-epoch and exits cleanly", async () => {
    const out = `${dir}/sigint`;
    const child = spawn([...args, `--out=${out}`]);
    await waitFor(`${out}/checkpoint/last/manifest.json`, child, 120_000);
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGINT");
    const status = await child.status;
    assert.equal(status.code, 130, "an interrupted run exits with 130");
    assert.equal(await exists(`${out}/summary.json`), false);
    const r = await cli(["sa-mtl", "--resume", `--run=${out}`, "--quiet"]);
    assert.equal(r.code, 0, r.err.join("\n"));
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    assert.deepEqual(summary.test, full.summary!.test);
  });
  await Deno.remove(dir, { recursive: true });
});

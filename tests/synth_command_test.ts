/**
 * `deno task synth` end to end: the files it writes are the generator's rows, pixel for pixel, with their
 * labels, hidden truth and contact sheets.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../runner/main.ts";
import { parseCsv } from "../core/csv.ts";
import { decodeImage } from "../datasets/image_io.ts";
import { decodeTruth } from "../datasets/_embedded_cache.ts";
import { generateSynth, SYNTH_NAMES } from "../datasets/synth/mod.ts";

Deno.test("synth writes each dataset's rows as PNGs with their labels, hidden truth and contact sheets", async () => {
  const out = await Deno.makeTempDir({ prefix: "synth_cmd_" });
  const sheet = join(out, "all.png");
  const opts = { seed: 3, size: 16, n: 12, domainShift: 0.5 };
  try {
    const code = await main([
      "synth",
      `--out=${out}`,
      `--seed=${opts.seed}`,
      `--size=${opts.size}`,
      `--n=${opts.n}`,
      `--domain_shift=${opts.domainShift}`,
      `--sheet=${sheet}`,
      "--per_class=1",
      "--quiet",
    ]);
    assert.equal(code, 0);
    for (const name of SYNTH_NAMES) {
      const data = generateSynth(name, opts);
      const dir = join(out, name);
      const csv = parseCsv(await Deno.readTextFile(join(dir, `${name}.csv`)));
      const tasks = Object.keys(data.rows.labels);
      assert.deepEqual(csv.columns, ["db_name", "full_path", ...tasks]);
      assert.equal(csv.rows.length, opts.n);
      for (const [i, row] of csv.rows.entries()) {
        assert.equal(row.db_name, name);
        for (const t of tasks) {
          assert.equal(Number(row[t]), data.rows.labels[t as "emotion"]![i], `${name} row ${i} ${t}`);
        }
        // The image is the generator's row, pixel for pixel (PNG is lossless).
        const img = await decodeImage(await Deno.readFile(join(dir, row.full_path)));
        assert.deepEqual([img.width, img.height], [opts.size, opts.size]);
        const s = opts.size * opts.size;
        for (let p = 0; p < s; p++) {
          for (let c = 0; c < 3; c++) {
            if (img.data[p * 4 + c] !== data.rows.rgb[(i * s + p) * 3 + c]) {
              assert.fail(`${name} row ${i}: pixel ${p} channel ${c} differs from the generator's`);
            }
          }
        }
      }
      // Hidden truth: every face task's label of every row, the dataset's own tasks equal to its CSV.
      const truth = decodeTruth(await Deno.readTextFile(join(dir, `${name}.truth.json`)), name);
      assert.equal(truth.n, opts.n);
      for (const t of ["emotion", "pose", "gender", "age"] as const) {
        assert.deepEqual(
          Array.from(truth.labels[t]!),
          Array.from(data.truth.labels[t]!),
          `${name} truth ${t}`,
        );
      }
      const own = await decodeImage(await Deno.readFile(join(dir, "contact_sheet.png")));
      assert.ok(
        own.width > opts.size && own.height > opts.size,
        `${name} contact sheet ${own.width}x${own.height}`,
      );
    }
    // The combined sheet stacks the three datasets' sheets: taller than any one of them.
    const all = await decodeImage(await Deno.readFile(sheet));
    for (const name of SYNTH_NAMES) {
      const own = await decodeImage(await Deno.readFile(join(out, name, "contact_sheet.png")));
      assert.ok(
        all.height > own.height,
        `the combined sheet (${all.height} px) is taller than ${name}'s (${own.height})`,
      );
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

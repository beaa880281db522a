/**
 * Per-run plots from `log.csv`: loss per head and accuracy per task per epoch, written as SVG and
 * PNG into `<run>/plots/` (vega-lite rendered headless, PNG through resvg).
 * @module
 */
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { readRunLog } from "./run_log.ts";
import { writeFileAtomic } from "../../core/fs.ts";
import { findFont, renderSvg, svgToPng } from "../report/figures.ts";

interface Point {
  epoch: number;
  series: string;
  value: number;
}

function lineSpec(title: string, yTitle: string, values: Point[]): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    width: 420,
    height: 240,
    data: { values: values as unknown as Record<string, unknown>[] },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "epoch",
        type: "quantitative",
        title: "outer epoch",
        axis: { tickMinStep: 1, format: "d" },
      },
      y: { field: "value", type: "quantitative", title: yTitle },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        legend: { orient: "bottom", columns: 2, labelLimit: 360 },
      },
    },
    config: { font: "DejaVu Sans" },
  } as TopLevelSpec;
}

/** Write `plots/loss.{svg,png}` and `plots/accuracy.{svg,png}` for a run directory. */
export async function writeRunPlots(dir: string): Promise<string[]> {
  const table = await readRunLog(dir);
  const loss: Point[] = [];
  const acc: Point[] = [];
  for (const row of table.rows) {
    const epoch = Number(row.epoch);
    for (const [k, v] of Object.entries(row)) {
      if (v === "" || !Number.isFinite(Number(v))) continue;
      const parts = k.split("/");
      if (parts.length !== 4) continue;
      const [task, dataset, split, metric] = parts;
      if (metric === "loss" && split === "train" && dataset === "all") {
        loss.push({ epoch, series: `${task} train`, value: Number(v) });
      } else if (metric === "loss" && split === "val") {
        loss.push({ epoch, series: `${task}/${dataset} val`, value: Number(v) });
      } else if (metric === "acc" && (split === "val" || split === "test") && task !== "all") {
        acc.push({ epoch, series: `${task}/${dataset} ${split}`, value: Number(v) });
      } else if (metric === "pseudo_acc") {
        acc.push({ epoch, series: `${task}/${dataset} pseudo labels`, value: Number(v) });
      }
    }
  }
  const font = findFont();
  const written: string[] = [];
  for (
    const [name, title, y, values] of [
      ["loss", "Loss per head", "cross-entropy", loss],
      ["accuracy", "Accuracy per task", "accuracy", acc],
    ] as const
  ) {
    if (values.length === 0) continue;
    const svg = await renderSvg(lineSpec(title, y, values), { fontFile: font });
    await writeFileAtomic(join(dir, "plots", `${name}.svg`), svg);
    await writeFileAtomic(join(dir, "plots", `${name}.png`), await svgToPng(svg, { fontFile: font }));
    written.push(join(dir, "plots", `${name}.png`));
  }
  return written;
}
